/**
 * `npm run bench:train [-- --decisions 1000000 --big 4000000 --runs 3 --per-object 100 --keep DIR]`
 *
 * `npm run train` end to end, from gzip NDJSON as the consumer writes it (objects of ≤ 100
 * records) and from the same log compacted to Parquet (`npm run log:compact`), against merely
 * gunzipping and JSON.parse-ing the same files in one Node process (parse-only.ts). Every run is
 * a fresh process; the three alternate (baseline, NDJSON, Parquet, baseline, …) because this
 * machine's speed swings. Reports medians of wall time (measured outside the process) and CPU
 * time (the process's own, DuckDB's threads included), and peak RSS; then the peak RSS of the
 * `--big` log against the first, for flat memory.
 *
 * Before timing: the trainer must learn the synthetic log (holdout AUC > 0.65), and NDJSON and
 * Parquet must give the same counts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliArgs } from '../../src/train/cli.ts';
import { writeSyntheticLog } from '../../src/train/synthetic-log.ts';

const { values } = cliArgs({
  name: 'bench:train',
  usage: 'npm run bench:train [-- --decisions N --big N --runs N --per-object N --keep DIR]',
  summary: 'npm run train end to end from NDJSON and from Parquet, against the parse-only baseline; peak memory at two sizes.',
  options: {
    decisions: { type: 'integer', min: 1, default: 1000000, help: 'decisions in the first log' },
    big: { type: 'integer', min: 0, default: 4000000, help: 'decisions in the second log, for flat memory (0: skip)' },
    runs: { type: 'integer', min: 1, default: 3, help: 'interleaved runs (fresh processes)' },
    'per-object': { type: 'integer', min: 1, default: 100, help: 'records per log object' },
    keep: { type: 'string', arg: 'DIR', help: 'keep (and reuse) the logs in DIR' },
  },
});
const runs = values.runs;
const sizes = [values.decisions, values.big].filter((n) => n > 0);
const perObject = values['per-object'];
const root = values.keep ?? (await mkdtemp(join(tmpdir(), 'attune-bench-train-')));
const node = process.execPath;
const here = import.meta.dirname;
const loadAtStart = loadavg()[0]!;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Run {
  wall: number;
  cpu: number;
  rss: number;
  records: number;
}

function timed(args: string[]): { wall: number; out: string } {
  const t = performance.now();
  const out = execFileSync(node, args, { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
  return { wall: (performance.now() - t) / 1000, out };
}

function baseline(dir: string): Run {
  const { wall, out } = timed([join(here, 'parse-only.ts'), dir]);
  const r = JSON.parse(out.trim()) as { records: number; cpuSeconds: number; maxRssMB: number };
  return { wall, cpu: r.cpuSeconds, rss: r.maxRssMB, records: r.records };
}

async function train(dir: string): Promise<Run & { report: Record<string, any> }> {
  const report = join(root, 'report.json');
  const { wall } = timed([
    join(here, '../../src/train/train.ts'),
    ...['--log', dir, '--name', 'bench', '--version', 'b', '--out', join(root, 'model.bin'), '--report', report, '--quiet'],
  ]);
  const r = JSON.parse(await readFile(report, 'utf8'));
  return { wall, cpu: r.read.cpuSeconds, rss: r.read.maxRssMB, records: r.read.lines, report: r };
}

async function prepare(n: number): Promise<{ ndjson: string; parquet: string }> {
  const ndjson = join(root, `ndjson-${n}`);
  const parquet = join(root, `parquet-${n}`);
  if (!existsSync(ndjson)) {
    const t = performance.now();
    const records = await writeSyntheticLog(ndjson, { decisions: n, seed: 11, perObject });
    console.log(
      `wrote ${records} records (${n} decisions) in objects of ≤ ${perObject} in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
  }
  if (!existsSync(parquet)) {
    const { wall, out } = timed([
      join(here, '../../src/train/log-compact.ts'),
      '--log',
      ndjson,
      '--out',
      parquet,
      '--quiet',
      '--settle',
      '0h',
    ]);
    console.log(`${out.trim()} in ${wall.toFixed(1)} s`);
  }
  return { ndjson, parquet };
}

const counts = (r: Record<string, any>) => [r.train.examples, r.train.positives, r.holdout.examples, r.holdout.positives, r.join.decisions];

try {
  const table: string[] = [];
  const row = (label: string, xs: Run[]) => {
    const line = `${label.padEnd(26)} ${median(xs.map((x) => x.wall))
      .toFixed(2)
      .padStart(7)} ${median(xs.map((x) => x.cpu))
      .toFixed(2)
      .padStart(
        7,
      )} ${String(median(xs.map((x) => x.rss))).padStart(8)}   ${Math.round(xs[0]!.records / median(xs.map((x) => x.cpu)) / 1000)}k`;
    table.push(line);
    return { wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)), rss: median(xs.map((x) => x.rss)) };
  };
  const peaks: { n: number; ndjson: number; parquet: number }[] = [];
  let ratios = '';
  for (const [i, n] of sizes.entries()) {
    const { ndjson, parquet } = await prepare(n);
    const check = await train(ndjson);
    if (!(check.report.holdout.auc > 0.65))
      throw new Error(`the trainer did not learn the synthetic log (holdout AUC ${check.report.holdout.auc})`);
    const fromParquet = await train(parquet);
    if (JSON.stringify(counts(fromParquet.report)) !== JSON.stringify(counts(check.report)))
      throw new Error(`Parquet and NDJSON disagree: ${counts(fromParquet.report)} vs ${counts(check.report)}`);
    const base: Run[] = [];
    const nd: Run[] = [];
    const pq: Run[] = [];
    for (let k = 0; k < (i === 0 ? runs : Math.max(1, Math.ceil(runs / 2))); k++) {
      if (i === 0) base.push(baseline(ndjson));
      nd.push(await train(ndjson));
      pq.push(await train(parquet));
    }
    const g = check.report.groups;
    table.push(
      `\n${n} decisions, ${check.records} records; ${g.groups} groups (${(g.decisions / g.groups).toFixed(2)} decisions each); holdout AUC ${check.report.holdout.auc.toFixed(3)}`,
    );
    table.push(`${''.padEnd(26)} ${'wall s'.padStart(7)} ${'CPU s'.padStart(7)} ${'peak MB'.padStart(8)}   records/CPU-s`);
    const b = i === 0 ? row('gunzip + JSON.parse', base) : null;
    const a = row('npm run train, NDJSON', nd);
    const c = row('npm run train, Parquet', pq);
    peaks.push({ n, ndjson: a.rss, parquet: c.rss });
    if (b) {
      const x = (y: number) => `${y.toFixed(2)}×`;
      ratios = [
        `faster than the baseline     wall    CPU   (target)`,
        `  from NDJSON              ${x(b.wall / a.wall).padStart(6)} ${x(b.cpu / a.cpu).padStart(6)}   (≥ 1.5×)`,
        `  from Parquet             ${x(b.wall / c.wall).padStart(6)} ${x(b.cpu / c.cpu).padStart(6)}   (≥ 2.5×)`,
      ].join('\n');
    }
  }
  console.log(table.join('\n'));
  console.log(`\n${ratios}`);
  if (peaks.length === 2) {
    const [s, l] = peaks as [(typeof peaks)[0], (typeof peaks)[0]];
    console.log(
      `peak RSS at ${l.n} against ${s.n} decisions: NDJSON ${(l.ndjson / s.ndjson).toFixed(2)}×, Parquet ${(l.parquet / s.parquet).toFixed(2)}× (target ≤ 1.3×)`,
    );
  }
  // the machine's other load: wall time, and CPU time less so, swing with it
  console.log(`load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end`);
  console.log(
    `\nmedians of ${runs} interleaved runs (${Math.max(1, Math.ceil(runs / 2))} at the big size), fresh process each; node ${process.version}; ratios on wall and on CPU time (wall swings with the machine's load, and DuckDB's threads count in CPU); reproduce: npm run bench:train -- --decisions ${sizes[0]} --big ${sizes[1] ?? 0} --runs ${runs}`,
  );
} finally {
  if (!values.keep) await rm(root, { recursive: true, force: true });
}
