// The false-finding rate of npm run insights: on synthetic logs with no injected shift, over many
// seeds, at most 5 % of the comparisons (metric shifts against the day before and the same weekday
// a week earlier, calibration, and the anomaly checks: control limits, stale models, …) become
// `shift` or `anomaly` findings. Segment findings describe real, constant effects of the synthetic
// truth (mobile visitors prefer bold) and do not count. The logs carry a healthy model (retrained
// daily, calibrated scores), so calibration and version age are checked too.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runInsights } from '../../src/train/insights/run.ts';
import { openLog } from '../../src/train/log/open-log.ts';
import { writeSyntheticLog } from '../../src/train/synthetic-log.ts';

const DAY = 86_400_000;
const START = Date.UTC(2026, 9, 1);
const SEEDS = 16;

it(`turns at most 5 % of comparisons into findings on ${SEEDS} no-shift logs`, async () => {
  let comparisons = 0;
  let findings = 0;
  let shiftComparisons = 0;
  let week = 0;
  let controlFound = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const dir = await mkdtemp(join(tmpdir(), `insights-null-${seed}-`));
    // eight and a half days, a decision every 15 s: about 1,900 exposures and 150 clicks per
    // variant a day, and the last full day has its weekday a week earlier
    await writeSyntheticLog(dir, { decisions: (8.5 * DAY) / 15_000, gapMs: 15_000, start: START, seed, perObject: 1000, model: true });
    const log = await openLog({ log: [dir] });
    try {
      const r = (await runInsights(log))!;
      expect(r.periods.to - r.periods.from).toBe(DAY);
      expect(r.history.week).toEqual({ from: r.periods.from - 7 * DAY, to: r.periods.to - 7 * DAY });
      comparisons += r.comparisons.shift + r.comparisons.anomaly;
      shiftComparisons += r.comparisons.shift;
      week += r.history.comparisons.filter((c) => c.against === 'week').length;
      // the control-limit series: a click rate per variant and the slot's exposures
      findings += r.findings.filter((f) => f.kind === 'shift' || f.kind === 'anomaly').length;
      controlFound += r.findings.filter((f) => f.against === 'history').length;
      expect(r.history.versions).toMatchObject([{ model: 'hero-ctr', versions: 8 }]);
      expect(r.history.versions[0]!.ageDays).toBeLessThan(1);
    } finally {
      await log.close();
    }
  }
  // every seed compares each variant's click rate with the day before and the week before, and
  // the model's calibration; and checks decisions, outcomes, visitors, 4 control series and the model's age
  expect(week).toBe(3 * SEEDS);
  expect(shiftComparisons).toBeGreaterThanOrEqual(7 * SEEDS);
  expect(comparisons).toBeGreaterThanOrEqual(15 * SEEDS);
  expect(controlFound).toBeLessThanOrEqual(0.05 * 4 * SEEDS);
  expect(findings / comparisons).toBeLessThanOrEqual(0.05);
}, 300_000);
