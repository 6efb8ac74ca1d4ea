// The areas of npm run insights beyond slots: recommendation placements (counts, shifts, a section
// of the report), shading savings and the bidding metrics on a small log computed by hand, the
// funnels' counts, and the per-experiment segment that `log:synth --anomaly` injects.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../../src/core/decision-record.ts';
import type { LogRecord, OutcomeEvent } from '../../src/core/outcome-event.ts';
import { reportHtml } from '../../src/train/insights/report-html.ts';
import { type InsightsResult, runInsights } from '../../src/train/insights/run.ts';
import { openLog } from '../../src/train/log/open-log.ts';
import { mulberry32, writeSyntheticLog } from '../../src/train/synthetic-log.ts';

const DAY = 86_400_000;
const START = Date.UTC(2026, 7, 1);
/** the chosen period is the second day */
const FROM = START + DAY;

const decision = (id: string, ts: number, d: Partial<DecisionRecord>): DecisionRecord => ({
  type: 'decision',
  v: 1,
  id,
  ts,
  kind: 'variant',
  visitor: id.slice(-8).padStart(8, '0'),
  slot: 'hero',
  model: null,
  action: 'a',
  propensity: 1,
  score: null,
  source: 'model',
  candidates: ['a'],
  probabilities: [1],
  featureSpec: 0,
  context: {} as DecisionRecord['context'],
  ...d,
});

const outcome = (decisionId: string, ts: number, name: OutcomeEvent['name'], o: Partial<OutcomeEvent> = {}): OutcomeEvent => ({
  type: 'outcome',
  v: 1,
  id: `${name}-${decisionId}`,
  ts,
  receivedAt: ts,
  name,
  decisionId,
  ...o,
});

async function insightsOf(records: readonly LogRecord[]): Promise<InsightsResult> {
  const dir = await mkdtemp(join(tmpdir(), 'insights-areas-'));
  await writeFile(join(dir, 'log.ndjson'), `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const log = await openLog({ log: [dir] });
  try {
    return (await runInsights(log, { from: FROM, to: FROM + DAY }))!;
  } finally {
    await log.close();
  }
}

const rowOf = (r: InsightsResult, area: string, subject: Record<string, string>) =>
  r.areas.find((a) => a.area.name === area)!.rows.find((x) => JSON.stringify(x.subject) === JSON.stringify(subject));

describe('recommendation placements', () => {
  /** two placements over two days, a slate every 30 s; `pdp`'s clicks fall from 12 % to 6 % on the second day */
  function* recs(): Generator<LogRecord> {
    const r = mulberry32(5);
    let i = 0;
    for (let ts = START; ts < START + 2 * DAY; ts += 30_000, i++) {
      const placement = i % 2 === 0 ? 'pdp' : 'cart';
      const id = `r${i}`;
      const items = [`sku${i % 7}`, `sku${(i + 3) % 7}`];
      yield decision(id, ts, {
        kind: 'recommendation',
        slot: placement,
        model: placement === 'pdp' ? { name: 'recs', version: '3' } : null,
        action: items[0]!,
        candidates: items,
        probabilities: [1, 1],
        source: placement === 'pdp' ? 'model' : 'fallback',
      });
      const p = placement === 'pdp' ? (ts >= FROM ? 0.06 : 0.12) : 0.08;
      if (r() < p) {
        yield outcome(id, ts + 10_000, 'click');
        if (r() < 0.25) yield outcome(id, ts + 60_000, 'purchase', { value: 40 });
      }
    }
  }

  it('are an area of their own, with the right counts, their shifts and a section in the report', async () => {
    const records = [...recs()];
    const r = await insightsOf(records);
    // what the log holds in the chosen period, counted here from the records
    const inPeriod = (placement: string) => {
      const ids = new Set(
        records.filter((x) => x.type === 'decision' && x.slot === placement && x.ts >= FROM && x.ts < FROM + DAY).map((x) => x.id),
      );
      const of = (name: string) => records.filter((x) => x.type === 'outcome' && x.name === name && ids.has(x.decisionId!));
      return { n: ids.size, clicks: of('click').length, purchases: of('purchase').length, revenue: 40 * of('purchase').length };
    };
    for (const [placement, model] of [
      ['pdp', 'recs'],
      ['cart', '(none)'],
    ] as const) {
      const want = inPeriod(placement);
      expect(want.purchases).toBeGreaterThan(0);
      const row = rowOf(r, 'placement', { placement, model })!;
      expect(row.after).toMatchObject({ n: want.n, clicks: want.clicks, conversions: want.purchases, revenue: want.revenue });
    }
    // slates are not variants of a slot: the items are not in the slots area
    expect(r.areas.find((a) => a.area.name === 'slot')!.rows).toEqual([]);
    // the placements enter the shifts as every area does
    const drop = r.findings.find((f) => f.kind === 'shift' && f.metric === 'ctr' && f.subject.placement === 'pdp');
    expect(drop).toMatchObject({ subject: { placement: 'pdp', model: 'recs' } });
    expect(drop!.change).toBeLessThan(-0.2);
    expect(r.findings.filter((f) => f.kind === 'shift' && f.subject.placement === 'cart')).toEqual([]);
    const html = reportHtml(r);
    expect(html).toContain('<h2>Recommendation placements</h2>');
    expect(html).toContain(`id="${drop!.chart}"`);
    expect(html).toContain('id="chart-funnel-pdp-placement"');
  }, 60_000);
});

describe('bidding', () => {
  const X = { exchange: 'x' };
  const bid = (id: string, value: number | undefined) =>
    decision(id, FROM + 1000 * Number(id.slice(1)), {
      kind: 'bid',
      slot: 'imp1',
      action: 'spring/banner',
      score: 9,
      price: 9,
      exchange: 'x',
      ...(value === undefined ? {} : { value }),
    });
  const t = (id: string) => FROM + 1000 * Number(id.slice(1)) + 500;
  const records: LogRecord[] = [
    // won at 2.5 CPM, worth 4: saved 1.5 CPM; clicked
    bid('b1', 4),
    outcome('b1', t('b1'), 'win', { ...X, auction: { price: 2.5 } }),
    outcome('b1', t('b1') + 100, 'click', X),
    // won at its value: saved 0; converted
    bid('b2', 3),
    outcome('b2', t('b2'), 'win', { ...X, auction: { price: 3 } }),
    outcome('b2', t('b2') + 9000, 'conversion'),
    // lost
    bid('b3', 5),
    outcome('b3', t('b3'), 'loss', { ...X, auction: { price: 7 } }),
    // won, but no notice named a price: not in the savings
    bid('b4', 2),
    outcome('b4', t('b4'), 'win', X),
    // won, logged before bids carried a value: not in the savings
    bid('b5', undefined),
    outcome('b5', t('b5'), 'win', { ...X, auction: { price: 1 } }),
    // a win at 1 and a billing at 1.5: paid 1.5 (the highest), worth 6: saved 4.5
    bid('b6', 6),
    outcome('b6', t('b6'), 'win', { ...X, auction: { price: 1 } }),
    outcome('b6', t('b6') + 50, 'billing', { ...X, auction: { price: 1.5 } }),
    // a notice without an exchange did not come from our routes: no win
    bid('b7', 4),
    outcome('b7', t('b7'), 'win', { auction: { price: 1 } }),
  ];

  it('counts shading savings (value − price paid over wins) as the campaign stats define them, beside bids, wins, spend, CPC and CPA', async () => {
    const r = await insightsOf(records);
    const s = rowOf(r, 'campaign', { campaign: 'spring' })!.after!;
    // by hand, in money per impression (CPM / 1000)
    expect(s.saved).toBeCloseTo((4 - 2.5 + (3 - 3) + (6 - 1.5)) / 1000, 12);
    expect(s.wonValue).toBeCloseTo((4 + 3 + 6) / 1000, 12);
    expect(s).toMatchObject({ n: 7, wins: 5, clicks: 1, conversions: 1 });
    expect(s.spend).toBeCloseTo((2.5 + 3 + 0 + 1 + 1.5) / 1000, 12);
    const area = r.areas.find((a) => a.area.name === 'campaign')!.area;
    const value = (name: string) => {
      const m = area.metrics.find((x) => x.name === name)!;
      if (m.count) return m.count(s);
      const q = m.sums!(s);
      return q.sy / q.sx;
    };
    expect(area.metrics.map((m) => m.name)).toEqual([
      'bids',
      'wins',
      'spend',
      'win_rate',
      'ctr',
      'cpc',
      'cpa',
      'shading_savings',
      'shading_savings_share',
    ]);
    expect(value('shading_savings')).toBeCloseTo(0.006, 12);
    expect(value('shading_savings_share')).toBeCloseTo(6 / 13, 12);
    expect(value('win_rate')).toBeCloseTo(5 / 7, 12);
    expect(value('cpc')).toBeCloseTo(0.008, 12);
    expect(value('cpa')).toBeCloseTo(0.008, 12);
    expect(reportHtml(r)).toContain('shading savings share (shading_savings_share)');
  }, 60_000);
});

describe('funnels', () => {
  it('count exposures, clicks and conversions after a click, per variant, arm and placement', async () => {
    const records: LogRecord[] = [];
    for (let i = 0; i < 10; i++) {
      const ts = FROM + i * 60_000;
      records.push(decision(`v${i}`, ts, { action: i < 6 ? 'a' : 'b', experiment: 'exp1' }));
      // a: 4 clicks; 2 of them convert (a purchase of 30, a goal); 1 converts without a click (10)
      if (i < 4) records.push(outcome(`v${i}`, ts + 1000, 'click'));
      if (i === 0) records.push(outcome('v0', ts + 2000, 'purchase', { value: 30 }));
      if (i === 1) records.push(outcome('v1', ts + 2000, 'goal'));
      if (i === 5) records.push(outcome('v5', ts + 2000, 'purchase', { value: 10 }));
      // b: 1 click, no conversion
      if (i === 6) records.push(outcome('v6', ts + 1000, 'click'));
    }
    // a placement: 3 slates, 2 clicked, 1 bought (25)
    for (let i = 0; i < 3; i++) records.push(decision(`p${i}`, FROM + i * 1000, { kind: 'recommendation', slot: 'pdp', action: 'sku1' }));
    records.push(
      outcome('p0', FROM + 2000, 'click'),
      outcome('p1', FROM + 3000, 'click'),
      outcome('p1', FROM + 4000, 'purchase', { value: 25 }),
    );
    // the comparison period's decisions are not in the funnel
    records.push(decision('old', START + 1000, { action: 'a', experiment: 'exp1' }), outcome('old', START + 2000, 'click'));
    const r = await insightsOf(records);
    const a = { exposures: 6, clicks: 4, conversions: 2, revenue: 30, viewThrough: 1 };
    const b = { exposures: 4, clicks: 1, conversions: 0, revenue: 0, viewThrough: 0 };
    expect(r.funnels).toEqual([
      { area: 'slot', group: 'hero', variant: 'a', ...a },
      { area: 'slot', group: 'hero', variant: 'b', ...b },
      { area: 'experiment', group: 'exp1', variant: 'a', ...a },
      { area: 'experiment', group: 'exp1', variant: 'b', ...b },
      { area: 'placement', group: 'pdp', variant: '', exposures: 3, clicks: 2, conversions: 1, revenue: 25, viewThrough: 0 },
    ]);
    const html = reportHtml(r);
    // drawn with each step's count and its rate of the step before
    const hero = html.match(/<figure id="chart-funnel-hero-slot">.*?<\/figure>/s)![0];
    expect(hero).toContain('>4 (66.7 %)<');
    expect(hero).toContain('>2 (50.0 %)<');
    expect(hero).toContain('1 conversions without a click');
    expect(html).toContain('id="chart-funnel-exp1-experiment"');
  }, 60_000);
});

describe('who responds to what, per experiment', () => {
  it("finds log:synth --anomaly's email visitors preferring offer-test's discount arm", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'insights-exp-segment-'));
    await writeSyntheticLog(dir, { decisions: (3 * DAY) / 4000, gapMs: 4000, start: START, seed: 3, anomaly: true });
    const log = await openLog({ log: [dir] });
    try {
      const r = (await runInsights(log))!;
      const f = r.findings.find((x) => x.kind === 'segment' && x.subject.experiment === 'offer-test');
      expect(f).toMatchObject({ metric: 'ctr', subject: { experiment: 'offer-test', referrer: 'email', arm: 'discount' } });
      // the truth is 12 % against 5 %: +140 %
      expect(f!.interval![0]).toBeGreaterThan(0);
      expect(f!.interval![0]).toBeLessThan(1.4);
      expect(f!.interval![1]).toBeGreaterThan(1.4);
      expect(f!.sentence).toMatch(/^In experiment offer-test, visitors with referrer email click discount most/);
      expect(r.findings.filter((x) => x.kind === 'segment' && x.subject.experiment !== undefined)).toHaveLength(1);
      expect(reportHtml(r)).toContain(`id="${f!.chart}"`);
    } finally {
      await log.close();
    }
  }, 60_000);
});

describe('who responds to what, by segment rule', () => {
  it('finds the visitors of a segment rule (context.segments) preferring another variant', async () => {
    const r0 = mulberry32(9);
    const records: LogRecord[] = [];
    for (let i = 0; i < 3000; i++) {
      const ts = FROM + i * 20_000;
      const vip = i % 3 === 0;
      const action = i % 2 === 0 ? 'a' : 'b';
      const context = { segments: vip ? ['vip', 'eu'] : ['eu'] } as unknown as DecisionRecord['context'];
      records.push(decision(`s${i}`, ts, { action, candidates: ['a', 'b'], context }));
      // a: 12 % everywhere, the best overall; b: 2 %, but 25 % for vip visitors
      if (r0() < (action === 'a' ? 0.12 : vip ? 0.25 : 0.02)) records.push(outcome(`s${i}`, ts + 1000, 'click'));
    }
    const r = await insightsOf(records);
    const segs = r.findings.filter((f) => f.kind === 'segment');
    expect(segs).toMatchObject([{ subject: { slot: 'hero', segment: 'vip', variant: 'b' }, metric: 'ctr' }]);
    expect(segs[0]!.interval![0]).toBeGreaterThan(0);
    expect(reportHtml(r)).toContain(`<figure id="${segs[0]!.chart}">`);
  }, 60_000);
});
