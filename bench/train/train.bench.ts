/**
 * Trainer throughput and peak memory for two log sizes: `npm run bench:train [-- --sizes 100000,400000 --runs 3]`
 *
 * Writes synthetic logs (known weights, src/train/synthetic-log.ts) to a temp folder, checks that
 * the trainer learns them (holdout AUC well above 0.5) before timing anything, then runs each
 * size `runs` times in fresh processes, alternating the trainer with the parse-only baseline
 * (read + JSON.parse, the floor of any reader of this log). Reports medians, the trainer's cost
 * relative to the baseline, and peak RSS: with FTRL's fixed tables and the streaming join, peak
 * memory should not grow with the log.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliArgs } from '../../src/train/cli.ts';
import { writeSyntheticLog } from '../../src/train/synthetic-log.ts';

const { values } = cliArgs({
  name: 'bench:train',
  usage: 'npm run bench:train [-- --sizes N,N… --runs N]',
  summary: "The trainer's throughput and peak memory on synthetic logs, against the parse-only baseline.",
  options: {
    sizes: { type: 'string', arg: 'N,N…', default: '100000,400000', help: 'log sizes, in decisions' },
    runs: { type: 'integer', min: 1, default: 3, help: 'runs per size (fresh processes)' },
  },
});
const sizes = values.sizes.split(',').map(Number);
if (!sizes.every((n) => Number.isInteger(n) && n > 0)) {
  console.error(`bench:train: --sizes must be positive integers separated by commas; got "${values.sizes}"`);
  process.exit(2);
}
const runs = values.runs;
const START = Date.UTC(2026, 10, 1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Run {
  records: number;
  seconds: number;
  perSecond: number;
  perCpuSecond: number;
  maxRssMB: number;
  auc: number;
}
const one = (mode: string, dir: string, cutoff: number, heapCapMB?: number): Run =>
  JSON.parse(
    execFileSync(
      process.execPath,
      [...(heapCapMB ? [`--max-old-space-size=${heapCapMB}`] : []), join(import.meta.dirname, 'run-one.ts'), mode, dir, String(cutoff)],
      { encoding: 'utf8' },
    ).trim(),
  );
/** The V8 heap cap the trainer must fit under at every size: a flat-memory check that GC headroom cannot blur. */
const HEAP_CAP_MB = 48;

const root = await mkdtemp(join(tmpdir(), 'attune-bench-train-'));
try {
  const rows: string[] = [];
  for (const n of sizes) {
    const dir = join(root, String(n));
    await writeSyntheticLog(dir, { decisions: n, seed: 11, start: START });
    const cutoff = START + 0.8 * n * 1000;
    const check = one('train', dir, cutoff);
    if (!(check.auc > 0.65)) throw new Error(`trainer did not learn the synthetic log (holdout AUC ${check.auc})`);
    const train: Run[] = [];
    const parse: Run[] = [];
    for (let i = 0; i < runs; i++) {
      train.push(one('train', dir, cutoff));
      parse.push(one('parse', dir, cutoff));
    }
    let capped = 'ok';
    try {
      one('train', dir, cutoff, HEAP_CAP_MB);
    } catch {
      capped = 'FAILED';
    }
    const t = median(train.map((r) => r.perSecond));
    const p = median(parse.map((r) => r.perSecond));
    const tc = median(train.map((r) => r.perCpuSecond));
    const k = (x: number) => `${Math.round(x / 1000)}k`;
    rows.push(
      `${String(check.records).padStart(9)} records | train ${k(t).padStart(5)} rec/s wall, ${k(tc).padStart(5)} rec/CPU-s, peak RSS ${median(train.map((r) => r.maxRssMB)).toFixed(0)} MB, under a ${HEAP_CAP_MB} MB heap cap: ${capped} | parse-only ${k(p).padStart(5)} rec/s, peak RSS ${median(parse.map((r) => r.maxRssMB)).toFixed(0)} MB | train/parse time ×${(p / t).toFixed(2)} | holdout AUC ${check.auc.toFixed(3)}`,
    );
    console.log(rows[rows.length - 1]);
  }
  console.log(
    `\nmedians of ${runs} runs each, fresh process per run; node ${process.version}; reproduce: npm run bench:train -- --sizes ${sizes.join(',')} --runs ${runs}`,
  );
} finally {
  await rm(root, { recursive: true, force: true });
}
