// Coverage of the off-policy intervals on synthetic logs whose true policy values are known
// (src/train/ope-synthetic.ts): over many seeds, a 95 % interval must contain the truth in at
// least 90 % of them, small logs with few or no rewards included. The full grid is
// bench/quality/ope-coverage.ts; this is a fast slice of it.
import { describe, expect, it } from 'vitest';
import { estimateRows } from '../../src/train/ope-bounds.ts';
import { createWorld, type Logging, syntheticRows, type Target } from '../../src/train/ope-synthetic.ts';

const SEEDS = 100;
const SCENARIOS: [n: number, base: number, logging: Logging, target: Target][] = [
  [50, 0.02, 'uniform', 'greedy'], // most seeds have no reward the candidate could have earned
  [50, 0.02, 'skewed', 'epsilon-greedy'],
  [200, 0.02, 'uniform', 'softmax'],
  [200, 0.15, 'skewed', 'greedy'],
  [1000, 0.02, 'skewed', 'softmax'], // weights up to 60: the bootstrap alone covers ~88 %
  [1000, 0.15, 'uniform', 'epsilon-greedy'],
];

describe('off-policy intervals cover known policy values', () => {
  for (const [n, base, logging, target] of SCENARIOS) {
    it(`${n} rows, ${base * 100} % base rate, ${logging} logging, ${target} candidate`, () => {
      const world = createWorld(base, logging, target);
      const covered = { ips: 0, snips: 0, dr: 0 };
      let noReward = 0;
      for (let seed = 1; seed <= SEEDS; seed++) {
        const r = estimateRows(syntheticRows(world, n, 1000 * seed + 17), { replicates: 200, seed, rewardMax: 1 });
        for (const k of ['ips', 'snips', 'dr'] as const) if (r[k].low <= world.truth && world.truth <= r[k].high) covered[k]++;
        if (r.matchedRewards === 0) {
          noReward++;
          // no reward seen: still an honest upper bound, never the point [0, 0]
          expect(r.ips.high).toBeGreaterThan(0);
          expect(r.snips.high).toBeGreaterThan(0);
        }
      }
      for (const k of ['ips', 'snips', 'dr'] as const) expect(covered[k] / SEEDS, k).toBeGreaterThanOrEqual(0.9);
      if (n === 50 && logging === 'uniform') expect(noReward).toBeGreaterThan(20);
    }, 30_000);
  }
});
