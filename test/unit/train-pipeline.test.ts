// Aggregated training's pipeline (log/train-log.ts, log/group-slice.ts): the run-wide context
// dictionary, across slices and when it starts over.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JoinOptions } from '../../src/train/attribution.ts';
import type { FitOptions } from '../../src/train/fit.ts';
import { DEFAULT_FTRL } from '../../src/train/ftrl.ts';
import { rows } from '../../src/train/log/duckdb.ts';
import { openLog } from '../../src/train/log/open-log.ts';
import { trainFromLog } from '../../src/train/log/train-log.ts';
import { writeSyntheticLog } from '../../src/train/synthetic-log.ts';

const MIN = 60_000;
const WEEK = 7 * 24 * 60 * MIN;
const JOIN: JoinOptions = { labels: new Set(['click']), windowMs: 30 * MIN, graceMs: 10 * MIN, skewMs: MIN };
const START = Date.UTC(2026, 10, 1);

describe('aggregated training across time slices', async () => {
  // two weeks' traffic at the same hours (1.7 hours each): the second week's contexts (hour and weekday included)
  // mostly recur from the first, in other slices
  const dir = await mkdtemp(join(tmpdir(), 'attune-pipeline-'));
  await writeSyntheticLog(dir, { decisions: 3000, seed: 4, start: START, perObject: 100, gapMs: 2000 });
  await writeSyntheticLog(dir, { decisions: 3000, seed: 5, start: START + WEEK, perObject: 100, gapMs: 2000 });
  const opts: FitOptions = {
    name: 'p',
    version: 'v',
    ftrl: { ...DEFAULT_FTRL, bits: 12 },
    cutoff: START + WEEK + 40 * MIN,
    target: 'click',
  };
  const run = async (dictionaryLimit?: number) => {
    const log = await openLog({ log: [dir], sliceBytes: 1 }); // a slice per partition hour
    try {
      return await trainFromLog(log, opts, JOIN, undefined, { dictionaryLimit });
    } finally {
      await log.close();
    }
  };

  it('reads and featurizes each distinct context once in the run, however many slices it recurs in', async () => {
    const log = await openLog({ log: [dir] });
    let distinct: number;
    try {
      await log.load('rec', { from: -Infinity, to: Infinity, readFrom: -Infinity, readTo: Infinity }, [
        'type',
        'kind',
        'action',
        'context',
      ]);
      const r = await rows(
        log.duck.con,
        `SELECT count(DISTINCT context)::INTEGER AS n, count(*)::INTEGER AS decisions FROM rec
         WHERE valid AND type = 'decision' AND kind = 'variant' AND action <> ''`,
      );
      distinct = Number(r[0]!.n);
      expect(Number(r[0]!.decisions)).toBe(6000);
    } finally {
      await log.close();
    }
    const { report } = await run();
    expect(report.read.slices).toBeGreaterThanOrEqual(4);
    expect(report.groups!.decisions).toBe(6000);
    expect(distinct).toBeLessThan(4500); // the recurrence this test is about
    expect(report.groups!.contexts).toBe(distinct);
  }, 60_000);

  it('trains the same model, byte for byte, when the dictionary starts over at every slice', async () => {
    const kept = await run();
    const restarted = await run(1);
    expect(restarted.report.groups!.contexts).toBeGreaterThan(kept.report.groups!.contexts);
    expect(Buffer.from(restarted.blob).equals(Buffer.from(kept.blob))).toBe(true);
    const { groups: _a, ...a } = restarted.report;
    const { groups: _b, ...b } = kept.report;
    expect(a).toEqual(b);
  }, 60_000);
});
