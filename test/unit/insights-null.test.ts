// The false-finding rate of npm run insights: on synthetic logs with no injected shift, over many
// seeds, at most 5 % of the comparisons (metric shifts and anomaly checks) become `shift` or
// `anomaly` findings. Segment findings describe real, constant effects of the synthetic truth
// (mobile visitors prefer bold) and do not count.
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
  for (let seed = 1; seed <= SEEDS; seed++) {
    const dir = await mkdtemp(join(tmpdir(), `insights-null-${seed}-`));
    // two and a half days, a decision every 15 s: about 1,900 exposures and 150 clicks per variant a day
    await writeSyntheticLog(dir, { decisions: (2.5 * DAY) / 15_000, gapMs: 15_000, start: START, seed, perObject: 1000 });
    const log = await openLog({ log: [dir] });
    try {
      const r = (await runInsights(log))!;
      expect(r.periods.to - r.periods.from).toBe(DAY);
      comparisons += r.comparisons.shift + r.comparisons.anomaly;
      shiftComparisons += r.comparisons.shift;
      findings += r.findings.filter((f) => f.kind === 'shift' || f.kind === 'anomaly').length;
    } finally {
      await log.close();
    }
  }
  // every seed compares each variant's click rate, and checks decisions, outcomes and visitors
  expect(shiftComparisons).toBeGreaterThanOrEqual(3 * SEEDS);
  expect(comparisons).toBeGreaterThanOrEqual(5 * SEEDS);
  expect(findings / comparisons).toBeLessThanOrEqual(0.05);
}, 300_000);
