/**
 * Coverage of the off-policy intervals on synthetic logs with known policy values
 * (src/train/ope-synthetic.ts): for each log size, base rate, logging policy and target policy,
 * the share of seeds whose 95 % interval contains the true value, for the intervals `evaluate`
 * reports and, for comparison, for the percentile bootstrap alone. Also the median interval
 * width relative to the truth, and how many seeds had no reward the candidate could have earned.
 *
 *   node bench/quality/ope-coverage.ts [seeds=200] [replicates=200]
 *
 * Prints a markdown table (docs/training.md carries it). The unit suite runs a slice of it
 * (test/unit/ope-coverage.test.ts).
 */
import { addRow, bootstrap, createOpe } from '../../src/train/ope.ts';
import { opeResult } from '../../src/train/ope-bounds.ts';
import { createWorld, type Logging, syntheticRows, type Target } from '../../src/train/ope-synthetic.ts';

const seeds = Number(process.argv[2] ?? 200);
const replicates = Number(process.argv[3] ?? 200);
const KEYS = ['ips', 'snips', 'dr', 'dm'] as const;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const pct = (k: number) => `${Math.round((100 * k) / seeds)}`;

console.log(
  `${seeds} seeds per row, ${replicates} bootstrap replicates, 95 % intervals. Coverage in %: reported interval (bootstrap alone).`,
);
console.log('');
console.log('| rows | base rate | logging | candidate | seeds w/o reward | IPS | SNIPS | DR | DM | width/truth IPS | DR |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const worst = { ips: 1, snips: 1, dr: 1 };
const started = performance.now();
for (const n of [50, 200, 1000, 5000])
  for (const base of [0.02, 0.15])
    for (const logging of ['uniform', 'skewed'] as Logging[])
      for (const target of ['greedy', 'epsilon-greedy', 'softmax'] as Target[]) {
        const world = createWorld(base, logging, target);
        const hit = Object.fromEntries(KEYS.map((k) => [k, 0])) as Record<(typeof KEYS)[number], number>;
        const bootHit = { ...hit };
        const width: Record<string, number[]> = { ips: [], dr: [] };
        let noReward = 0;
        for (let seed = 1; seed <= seeds; seed++) {
          const ope = createOpe({ replicates, seed, rewardMax: 1 });
          for (const row of syntheticRows(world, n, 1000 * seed + 17)) addRow(ope, row);
          const r = opeResult(ope);
          if (r.matchedRewards === 0) noReward++;
          const inside = (lo: number, hi: number) => lo <= world.truth && world.truth <= hi;
          for (const k of KEYS) if (inside(r[k].low, r[k].high)) hit[k]++;
          width.ips!.push((r.ips.high - r.ips.low) / world.truth);
          width.dr!.push((r.dr.high - r.dr.low) / world.truth);
          // the percentile bootstrap alone, from the same replicates
          const boot = bootstrap(ope);
          const of: Record<(typeof KEYS)[number], (s: (typeof boot)[number]) => number> = {
            ips: (s) => s.x / s.n,
            snips: (s) => s.x / s.w,
            dr: (s) => s.dr / s.n,
            dm: (s) => s.dm / s.n,
          };
          for (const k of KEYS) {
            const xs = boot
              .map(of[k])
              .filter(Number.isFinite)
              .sort((a, b) => a - b);
            const at = (q: number) => xs[Math.round(q * (xs.length - 1))] ?? NaN;
            if (inside(at(0.025), at(0.975))) bootHit[k]++;
          }
        }
        for (const k of ['ips', 'snips', 'dr'] as const) worst[k] = Math.min(worst[k], hit[k] / seeds);
        const cell = (k: (typeof KEYS)[number]) => `${pct(hit[k])} (${pct(bootHit[k])})`;
        console.log(
          `| ${n} | ${base * 100} % | ${logging} | ${target} | ${noReward} | ${cell('ips')} | ${cell('snips')} | ${cell('dr')} | ${cell('dm')} | ${median(width.ips!).toFixed(2)} | ${median(width.dr!).toFixed(2)} |`,
        );
      }
console.log('');
console.log(
  `worst coverage: IPS ${(worst.ips * 100).toFixed(0)} %, SNIPS ${(worst.snips * 100).toFixed(0)} %, DR ${(worst.dr * 100).toFixed(0)} % (${((performance.now() - started) / 1000).toFixed(0)} s)`,
);
