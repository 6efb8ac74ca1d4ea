// npm run insights against the history before the period: `log:synth --anomaly` also injects a
// stale model whose calibration drifts on the last day and a two-hour traffic spike in it, and a
// log long enough reaches the same weekday a week earlier. The report must find each (control
// limits, stale model, calibration drift, the week-earlier shift), and none on the same logs
// without the injections.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitSeries } from '../../src/train/insights/control-limits.ts';
import { staleFindings, versionTime } from '../../src/train/insights/model-versions.ts';
import { reportHtml } from '../../src/train/insights/report-html.ts';
import { runInsights } from '../../src/train/insights/run.ts';
import { openLog } from '../../src/train/log/open-log.ts';
import { ANOMALY, writeSyntheticLog } from '../../src/train/synthetic-log.ts';

const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 1);

async function insights(o: { days: number; gapMs: number; anomaly?: boolean; model?: boolean; seed: number }) {
  const dir = await mkdtemp(join(tmpdir(), 'insights-history-'));
  await writeSyntheticLog(dir, { ...o, decisions: (o.days * DAY) / o.gapMs, start: START, perObject: 1000 });
  const log = await openLog({ log: [dir] });
  try {
    return (await runInsights(log))!;
  } finally {
    await log.close();
  }
}

describe('insights against history on log:synth --anomaly (3 days, a decision every 4 s)', () => {
  it('finds the traffic spike, the stale model and the calibration drift, and charts the control limits', async () => {
    const r = await insights({ days: 3, gapMs: 4000, anomaly: true, seed: 3 });
    const lastDay = START + 2 * DAY;
    // the spike: 3 × the slot's decisions from 10:00 for 2 hours, outside limits fitted on 48 hours
    const spike = r.findings.find((f) => f.kind === 'anomaly' && f.metric === 'exposures');
    expect(spike).toMatchObject({ subject: { slot: 'hero' }, against: 'history', severity: 'high' });
    expect(spike!.change).toBeCloseTo(ANOMALY.spikeExtra, 1);
    expect(spike!.sentence).toMatch(
      /^Exposures of slot hero spiked to 2,700 in the 1 h from 2026-11-03 1[01]:00 UTC .*; 2 of the period's 24 buckets are outside\.$/,
    );
    const series = r.history.control.find((s) => s.metric === 'exposures')!;
    const outside = series.points.filter((p) => p.t >= lastDay && (p.value > p.upper || p.value < p.lower)).map((p) => p.t);
    expect(outside).toEqual([lastDay + 10 * 3_600_000, lastDay + 11 * 3_600_000]);

    const stale = r.findings.find((f) => f.metric === 'model_version_age');
    expect(stale).toMatchObject({ kind: 'anomaly', subject: { kind: 'variant', model: 'hero-ctr' }, against: null });
    // trained 10 days before the log's start, which is 3 days long
    expect(stale!.after).toBeCloseTo(ANOMALY.staleDays + 3, 0);
    expect(r.history.versions).toMatchObject([{ model: 'hero-ctr', version: '20261022t000000', sinceFrom: 'name', versions: 1 }]);

    // observed / predicted clicks: about 1 before; after, the score is 1.6 × and bold's clicks halve
    const drift = r.findings.find((f) => f.metric === 'calibration');
    expect(drift).toMatchObject({ kind: 'anomaly', subject: { kind: 'variant', model: 'hero-ctr' }, against: 'previous' });
    expect(drift!.before).toBeGreaterThan(0.9);
    expect(drift!.before).toBeLessThan(1.1);
    expect(drift!.interval![1]).toBeLessThan(-1 + 1 / ANOMALY.scoreFactor);
    expect(drift!.sentence).toMatch(/calibration drift/);

    const html = reportHtml(r);
    expect(html).toContain(`id="${spike!.chart}"`);
    expect(html).toMatch(/<polygon points="[^"]+" fill="#888" opacity="0.18"\/>/);
    expect(html).toContain(`href="#${drift!.chart}"`);
    expect(html).toContain(`id="${drift!.chart}"`);
    expect(html).toContain('20261022t000000');
    // too short a log for the week-earlier comparison
    expect(r.history.week).toBeNull();
  }, 60_000);

  it('finds none of them without the injections, with a healthy model logged', async () => {
    const r = await insights({ days: 3, gapMs: 4000, model: true, seed: 3 });
    expect(r.history.control.length).toBe(0);
    expect(r.findings.filter((f) => f.kind === 'anomaly' || f.kind === 'shift')).toEqual([]);
    expect(r.history.versions).toMatchObject([{ model: 'hero-ctr', versions: 3, sinceFrom: 'name' }]);
    expect(r.history.calibration).toHaveLength(1);
  }, 60_000);
});

describe('the same weekday a week earlier', () => {
  it('compares the last day with the one a week before it, in the same pool, and finds the halving there too', async () => {
    const r = await insights({ days: 9, gapMs: 20_000, anomaly: true, seed: 4 });
    expect(r.history.week).toEqual({ from: r.periods.from - 7 * DAY, to: r.periods.to - 7 * DAY });
    const week = r.findings.filter((f) => f.against === 'week');
    expect(week).toMatchObject([{ kind: 'shift', metric: 'ctr', subject: { slot: 'hero', variant: 'bold' } }]);
    expect(week[0]!.change).toBeLessThan(0);
    expect(week[0]!.interval![0]).toBeLessThan(-0.5);
    expect(week[0]!.interval![1]).toBeGreaterThan(-0.5);
    expect(week[0]!.sentence).toMatch(/^Click rate of slot hero, variant bold fell −\d+ % against the same weekday a week earlier \(/);
    // one pool: (hero's 3 variants, offer's 2 as a slot, offer-test's 2 arms) × (day before + week
    // before), and the model's calibration
    expect(r.comparisons.shift).toBe(15);
    const html = reportHtml(r);
    expect(html).toContain(`id="${week[0]!.chart}"`);
  }, 60_000);
});

describe('control limits', () => {
  const covered = () => true;
  const hours = (xs: readonly [number, number][], from: number) => new Map(xs.map(([n, y], i) => [from + i, { t: from + i, n, y }]));

  it('flags a count outside Poisson limits, and widens them by the overdispersion history shows', () => {
    const flat = hours(
      [
        ...Array.from({ length: 48 }, () => [100, 0] as [number, number]),
        ...Array.from({ length: 24 }, (_, i) => [i === 5 ? 160 : 100, 0] as [number, number]),
      ],
      -48,
    );
    const f = fitSeries({ type: 'count' }, flat, { firstHour: -48, periodHours: 24, covered })!;
    expect(f.b).toBe(1);
    expect(f.phi).toBe(1);
    expect(f.points.filter((p) => p.inPeriod && Math.abs(p.z) > f.k).map((p) => p.t)).toEqual([5]);
    // history swinging 50 ↔ 150: φ ≈ 25, and 160 is inside
    const swing = hours(
      [
        ...Array.from({ length: 48 }, (_, i) => [i % 2 ? 50 : 150, 0] as [number, number]),
        ...Array.from({ length: 24 }, (_, i) => [i === 5 ? 160 : 100, 0] as [number, number]),
      ],
      -48,
    );
    const g = fitSeries({ type: 'count' }, swing, { firstHour: -48, periodHours: 24, covered })!;
    expect(g.phi).toBeGreaterThan(20);
    expect(g.points.filter((p) => p.inPeriod && Math.abs(p.z) > g.k)).toEqual([]);
  });

  it('merges hours until a bucket holds enough events, and needs enough history', () => {
    // 4 clicks an hour: 3-hour buckets hold 12
    const rate = hours(
      Array.from({ length: 72 }, () => [80, 4] as [number, number]),
      -48,
    );
    expect(fitSeries({ type: 'rate' }, rate, { firstHour: -48, periodHours: 24, covered })!.b).toBe(3);
    const short = hours(
      Array.from({ length: 30 }, () => [80, 4] as [number, number]),
      -6,
    );
    expect(fitSeries({ type: 'rate' }, short, { firstHour: -6, periodHours: 24, covered })).toBeNull();
  });
});

describe('model version age', () => {
  it("reads npm run train's default version names as times", () => {
    expect(versionTime('20261123t101500')).toBe(Date.UTC(2026, 10, 23, 10, 15, 0));
    expect(versionTime('v7')).toBeNull();
  });

  it('flags versions older than the limit, naming the models that did update', () => {
    const v = (model: string, ageDays: number) => ({
      kind: 'variant',
      model,
      version: 'v',
      since: 0,
      sinceFrom: 'first decision' as const,
      ageDays,
      versions: 1,
    });
    const r = staleFindings([v('a', 2), v('b', 9), v('c', 20)], 7);
    expect(r.checks).toBe(3);
    expect(r.findings.map((f) => [f.subject.model, f.severity])).toEqual([
      ['b', 'medium'],
      ['c', 'high'],
    ]);
    expect(r.findings[0]!.sentence).toMatch(/9\.0 days old .* past the 7-day limit while 1 other model updated/);
  });
});
