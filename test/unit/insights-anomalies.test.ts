// The anomalies of npm run insights, each injected into an otherwise clean synthetic log: an
// experiment that loses a share of one arm's exposures (sample-ratio mismatch), hours without any
// record (events stopping), three visitors making a third of a slot's decisions (bots), and bids whose
// model falls back far more often in the last day (a fallback spike), next to a campaign whose
// win rate drops. The same log without the injections has none of them.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../../src/core/decision-record.ts';
import type { LogRecord } from '../../src/core/outcome-event.ts';
import { reportHtml } from '../../src/train/insights/report-html.ts';
import { runInsights } from '../../src/train/insights/run.ts';
import { openLog } from '../../src/train/log/open-log.ts';
import { mulberry32, syntheticLog } from '../../src/train/synthetic-log.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 8, 1);
const GAP = 10_000;

/** Bid decisions and their notices: win rate 40 % → 25 % and fallbacks 5 % → 40 % in the last day when `shift`. */
function* bids(shift: boolean): Generator<LogRecord> {
  const r = mulberry32(7);
  for (let ts = START + 3000; ts < START + 2 * DAY; ts += GAP) {
    const late = shift && ts >= START + DAY;
    const id = `b-${ts}`;
    const d: DecisionRecord = {
      type: 'decision',
      v: 1,
      id,
      ts,
      kind: 'bid',
      visitor: `v${Math.floor(r() * 1e9)}`,
      slot: 'imp1',
      model: { name: 'pctr', version: '1' },
      action: 'spring/banner',
      propensity: 1,
      score: 2,
      source: r() < (late ? 0.4 : 0.05) ? 'fallback' : 'model',
      candidates: ['spring/banner'],
      probabilities: [1],
      featureSpec: 0,
      context: {} as DecisionRecord['context'],
      exchange: 'x',
    };
    yield d;
    if (r() < (late ? 0.25 : 0.4)) {
      const base = { type: 'outcome', v: 1, ts: ts + 1000, receivedAt: ts + 1000, decisionId: id, exchange: 'x' } as const;
      yield { ...base, id: `win:${id}`, name: 'win', auction: { price: 1.5 } };
      if (r() < 0.05) yield { ...base, id: `click:${id}`, name: 'click', ts: ts + 2000 };
    }
  }
}

async function writeLog(inject: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'insights-anomalies-'));
  const lines: string[] = [];
  const r = mulberry32(11);
  const stopFrom = START + DAY + 10 * HOUR;
  for (const rec of syntheticLog({ decisions: (2 * DAY) / GAP, gapMs: GAP, start: START, seed: 5 })) {
    if (inject && rec.ts >= stopFrom && rec.ts < stopFrom + 3 * HOUR) continue;
    if (rec.type === 'decision') {
      const late = rec.ts >= START + DAY;
      if (inject && late && rec.action === 'bold' && r() < 0.15) continue;
      const visitor = inject && late && r() < 0.35 ? `bot${rec.ts % 3}` : rec.visitor;
      lines.push(JSON.stringify({ ...rec, visitor, experiment: 'hero-test' }));
    } else lines.push(JSON.stringify(rec));
  }
  for (const rec of bids(inject)) lines.push(JSON.stringify(rec));
  await writeFile(join(dir, 'log.ndjson'), `${lines.join('\n')}\n`);
  return dir;
}

async function insights(dir: string) {
  const log = await openLog({ log: [dir] });
  try {
    return (await runInsights(log, { from: START + DAY, to: START + 2 * DAY }))!;
  } finally {
    await log.close();
  }
}

describe('insights anomalies', () => {
  it('finds SRM, events stopping, a few visitors dominating and a fallback spike', async () => {
    const r = await insights(await writeLog(true));
    const of = (metric: string) => r.findings.filter((f) => f.kind === 'anomaly' && f.metric === metric);
    expect(of('srm')).toMatchObject([{ subject: { experiment: 'hero-test' }, severity: 'high' }]);
    expect(of('decisions_per_hour')).toMatchObject([{ subject: { slot: 'hero', series: 'decisions' } }]);
    expect(of('decisions_per_hour')[0]!.sentence).toMatch(/^Decisions of slot hero stopped: none in 3 hours from 2026-09-02 10:00 UTC/);
    expect(of('top_visitor_share')).toHaveLength(1);
    expect(of('top_visitor_share')[0]!.after).toBeGreaterThan(0.12);
    // the spike is both a shift upward against the day before and a breach of its control limits
    const spike = of('fallback_rate');
    expect(spike).toMatchObject([
      { subject: { kind: 'bid', model: 'pctr' }, against: 'previous' },
      { subject: { kind: 'bid', model: 'pctr' }, against: 'history' },
    ]);
    expect(spike[0]!.change).toBeGreaterThan(3);
    const win = r.findings.find((f) => f.kind === 'shift' && f.metric === 'win_rate');
    expect(win).toMatchObject({ subject: { campaign: 'spring' } });
    expect(win!.change).toBeLessThan(-0.2);
    // the campaign's numbers: 1.5 CPM a win, so CPC is 0.0015 / clicks per win
    const spring = r.areas.find((a) => a.area.name === 'campaign')!.rows[0]!;
    expect(spring.after!.spend).toBeCloseTo(spring.after!.wins * 0.0015, 9);
    // every finding links to a chart the report draws
    const html = reportHtml(r);
    for (const f of r.findings) expect(html).toContain(`<figure id="${f.chart}">`);
  }, 60_000);

  it('finds none of them in the same log without the injections', async () => {
    const r = await insights(await writeLog(false));
    // SRM of one experiment, the visitors, and decisions and outcomes of two slots; control limits
    // of three variants' click rates, two slots' exposures and a model's fallback rate; the model's age
    expect(r.comparisons.anomaly).toBe(13);
    expect(r.findings.filter((f) => f.kind === 'anomaly' || f.kind === 'shift')).toEqual([]);
  }, 60_000);
});
