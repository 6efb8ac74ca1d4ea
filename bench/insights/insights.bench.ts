/**
 * `npm run bench:insights [-- --decisions 1000000 --runs 3 --keep DIR --parquet]`
 *
 * `npm run insights` end to end on a synthetic log of `--decisions` hero decisions written as the
 * consumer writes it (gzip NDJSON objects of ≤ 100 records), with `--anomaly`'s shifts, which add
 * an `offer-test` decision to every second one (so 1.5 × as many decisions, and about 1.6 × as
 * many records with the clicks). Each run is a fresh process; reports the median wall time, CPU time
 * (user + system, DuckDB's threads included) and peak RSS.
 * `--parquet` also times the same log compacted by `npm run log:compact`.
 *
 * Before timing: the report must find the injected halving of bold's click rate.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliArgs } from '../../src/train/cli.ts';
import { progressBar, records } from '../../src/train/progress.ts';
import { writeSyntheticLog } from '../../src/train/synthetic-log.ts';

const { values } = cliArgs({
  name: 'bench:insights',
  usage: 'npm run bench:insights [-- --decisions N --runs N --keep DIR --parquet]',
  summary: 'npm run insights end to end on a synthetic log of a million decisions (median wall time of fresh processes).',
  options: {
    decisions: { type: 'integer', min: 10_000, default: 1_000_000, help: 'decisions in the log (over about three days)' },
    runs: { type: 'integer', min: 1, default: 3, help: 'runs (fresh processes)' },
    keep: { type: 'string', arg: 'DIR', help: 'keep (and reuse) the log in DIR' },
    parquet: { type: 'boolean', help: 'also time the log compacted to Parquet' },
  },
});
const DAY = 86_400_000;
const root = values.keep ?? (await mkdtemp(join(tmpdir(), 'attune-bench-insights-')));
const here = import.meta.dirname;
const cli = join(here, '../../src/train/insights.ts');
const ndjson = join(root, `ndjson-${values.decisions}`);
const parquet = join(root, `parquet-${values.decisions}`);
const gapMs = Math.floor((2.9 * DAY) / values.decisions);
const start = Date.UTC(2026, 10, 1);

if (!existsSync(ndjson)) {
  const bar = progressBar('writing the log');
  const t = performance.now();
  const n = await writeSyntheticLog(ndjson, {
    decisions: values.decisions,
    gapMs,
    start,
    seed: 21,
    anomaly: true,
    onProgress: (d) => bar.update(d / values.decisions, records(d, t)),
  });
  bar.done();
  console.log(
    `wrote ${n.toLocaleString('en-US')} records (${values.decisions.toLocaleString('en-US')} hero decisions) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
}
if (values.parquet && !existsSync(parquet)) {
  execFileSync(
    process.execPath,
    [join(here, '../../src/train/log-compact.ts'), '--log', ndjson, '--out', parquet, '--quiet', '--settle', '0h'],
    {
      stdio: 'inherit',
    },
  );
}

/** GNU time's CPU seconds and peak RSS of the child, where /usr/bin/time exists (this machine's load swings wall time). */
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

function run(dir: string): { wall: number; cpu: number; rss: number } {
  const json = join(root, 'findings.json');
  const args = [cli, '--log', dir, '--out', join(root, 'report.html'), '--json', json];
  const t = performance.now();
  const r = TIME
    ? spawnSync(TIME, ['-f', 'TIME %U %S %M', process.execPath, ...args], { encoding: 'utf8' })
    : spawnSync(process.execPath, args, { encoding: 'utf8' });
  const wall = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`insights failed: ${r.stderr}`);
  const m = /TIME ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  const { findings } = JSON.parse(readFileSync(json, 'utf8')) as {
    findings: { kind: string; metric: string; subject: Record<string, string>; change: number }[];
  };
  const bold = findings.find((f) => f.kind === 'shift' && f.metric === 'ctr' && f.subject.variant === 'bold' && f.change < 0);
  if (!bold) throw new Error(`the report missed the injected halving of bold (${dir})`);
  return { wall, cpu: m ? Number(m[1]) + Number(m[2]) : NaN, rss: m ? Number(m[3]) / 1024 : NaN };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [label, dir] of [['gzip NDJSON', ndjson], ...(values.parquet ? [['Parquet', parquet]] : [])] as const) {
  const rs = Array.from({ length: values.runs }, () => run(dir));
  const walls = rs.map((r) => r.wall);
  console.log(
    `${label.padEnd(12)} median ${median(walls).toFixed(2)} s wall (runs: ${walls.map((w) => w.toFixed(2)).join(', ')}), ` +
      `${median(rs.map((r) => r.cpu)).toFixed(2)} s CPU, peak RSS ${Math.round(median(rs.map((r) => r.rss)))} MB`,
  );
}
console.log(`log: ${root}`);
