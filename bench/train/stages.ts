/**
 * `node bench/train/stages.ts --log DIR [--slice-mb N]`
 *
 * Where `npm run train`'s CPU goes, stage by stage, each run alone (the trainer overlaps DuckDB's
 * stage with JS's; here they run one after the other so each is measured by itself): DuckDB's
 * statements per slice (log/group-slice.ts), grouped by what they build, then the JS stage
 * (parsing and featurizing the new contexts, the weighted FTRL steps). CPU is the process's
 * (DuckDB's threads included), from process.cpuUsage around each statement; wall is beside it.
 * For the baseline's split, gunzip alone: `--gunzip`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createFeatureVector } from '../../src/core/features.ts';
import { newJoinStats } from '../../src/train/attribution.ts';
import { cliArgs } from '../../src/train/cli.ts';
import { actionIndex, createLearner, learn } from '../../src/train/fit.ts';
import { DEFAULT_FTRL } from '../../src/train/ftrl.ts';
import { addContextBatch, createContextStore } from '../../src/train/log/contexts.ts';
import { createSliceGrouper, type SliceGroups } from '../../src/train/log/group-slice.ts';
import { openLog } from '../../src/train/log/open-log.ts';
import { decisionRange } from '../../src/train/log/range.ts';

const { values } = cliArgs({
  name: 'bench/train/stages.ts',
  usage: 'node bench/train/stages.ts --log DIR [--slice-mb N] [--gunzip]',
  summary: "npm run train's CPU by stage: DuckDB's statements, then featurizing and FTRL, each alone.",
  options: {
    log: { type: 'string', arg: 'DIR', required: true, help: 'the log folder' },
    'slice-mb': { type: 'number', arg: 'MB', help: 'input per time slice (as npm run train)' },
    gunzip: { type: 'boolean', help: "also time gunzip alone over the folder's .ndjson.gz objects (the baseline's first half)" },
  },
});

const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
const stages = new Map<string, { wall: number; cpu: number }>();
function add(stage: string, wall: number, c: number): void {
  const s = stages.get(stage) ?? { wall: 0, cpu: 0 };
  s.wall += wall;
  s.cpu += c;
  stages.set(stage, s);
}
async function timed<T>(stage: string, f: () => Promise<T> | T): Promise<T> {
  const t = performance.now();
  const c = cpu();
  const out = await f();
  add(stage, (performance.now() - t) / 1000, cpu() - c);
  return out;
}

/** What a statement of group-slice.ts builds, by its text. */
function stageOf(sql: string): string {
  const s = sql.replace(/\s+/g, ' ');
  if (/rec_ndjson AS|VIEW rec|DROP VIEW|DROP TABLE IF EXISTS rec/.test(s))
    return 'DuckDB: load the slice (NDJSON parsed into a table; Parquet a view)';
  if (/TABLE d AS/.test(s)) return 'DuckDB: d, one row per decision';
  if (/TABLE o AS/.test(s)) return 'DuckDB: o, one row per outcome';
  if (/SELECT r\.\*/.test(s)) return "DuckDB: the join's counts";
  if (/TABLE g AS/.test(s)) return 'DuckDB: g, the groups';
  if (/dict/.test(s) && /texts/.test(s)) return "DuckDB: the new contexts' texts";
  if (/INSERT INTO dict|FROM dict$/.test(s) || /count\(\*\)::INTEGER AS n FROM dict/.test(s)) return 'DuckDB: the dictionary';
  if (/acts/.test(s) && /packed/.test(s)) return 'DuckDB: the groups, sorted, to JS';
  if (/acts/.test(s)) return 'DuckDB: the actions';
  if (/AS lo, max\(ts\)/.test(s)) return 'DuckDB: the holdout range (the end hours)';
  return 'DuckDB: other';
}

const JOIN = { labels: new Set(['click']), windowMs: 30 * 60_000, graceMs: 10 * 60_000, skewMs: 60_000 };
const total = { wall: performance.now(), cpu: cpu() };
const log = await timed('open the log (files, footers, DuckDB)', () =>
  openLog({ log: [values.log], sliceBytes: values['slice-mb'] === undefined ? undefined : values['slice-mb'] * 2 ** 20 }),
);
const con = log.duck.con as unknown as Record<string, (sql: string) => Promise<unknown>>;
for (const name of ['run', 'runAndReadAll']) {
  const orig = con[name]!.bind(con);
  // runAndReadAll calls run: count the outer call only
  let depth = 0;
  con[name] = async (sql: string) => {
    if (depth > 0) return orig(sql);
    depth++;
    try {
      return await timed(stageOf(sql), () => orig(sql));
    } finally {
      depth--;
    }
  };
}
const range = (await decisionRange(log))!;
const fit = {
  name: 'stages',
  version: 'v',
  ftrl: DEFAULT_FTRL,
  cutoff: range.min + 0.8 * (range.max - range.min),
  target: 'click',
};
const grouper = createSliceGrouper(log, fit, JOIN, newJoinStats(), { lines: 0, bad: 0, slices: 0, skippedFiles: 0 });
const slices: SliceGroups[] = [];
for (const s of log.plan(JOIN)) slices.push(await grouper.group(s));
await log.close();

// the JS stage, as train-log.ts runs it
const l = createLearner(fit);
const store = createContextStore();
let contexts = 0;
let groups = 0;
const fv = createFeatureVector();
fv.values.fill(1);
for (const s of slices) {
  await timed('JS: parse and featurize the new contexts', () => {
    for (const b of s.batches) {
      addContextBatch(store, b.first, b.texts);
      contexts += b.count;
    }
  });
  await timed('JS: FTRL, one weighted step per group', () => {
    for (const a of s.actions) actionIndex(l, a);
    for (let i = 0; i < s.n; i++) {
      const cid = s.cid[i]!;
      const at = store.start[cid]!;
      const n = store.len[cid]!;
      for (let k = 0; k < n; k++) fv.hashes[k] = store.pool[at + k]!;
      fv.length = n;
      const p = s.packed[i]!;
      learn(l, s.actions[p >>> 2]!, at < 0 ? null : fv, ((p >>> 1) & 1) as 0 | 1, (p & 1) === 1, s.weight[i]!, s.first[i]!, s.last[i]!);
    }
    groups += s.n;
  });
}
if (values.gunzip) {
  await timed('(baseline) gunzip alone', () => {
    for (const rel of (readdirSync(values.log, { recursive: true }) as string[]).sort())
      if (rel.endsWith('.ndjson.gz')) gunzipSync(readFileSync(joinPath(values.log, rel)));
  });
}
console.log(`${values.log}: ${slices.length} slices, ${groups} groups, ${contexts} contexts featurized`);
console.log(`${'stage'.padEnd(72)} ${'CPU s'.padStart(7)} ${'wall s'.padStart(7)}`);
for (const [k, v] of stages) console.log(`${k.padEnd(72)} ${v.cpu.toFixed(2).padStart(7)} ${v.wall.toFixed(2).padStart(7)}`);
console.log(
  `${'all of the above (without Node start-up and imports)'.padEnd(72)} ${(cpu() - total.cpu).toFixed(2).padStart(7)} ${((performance.now() - total.wall) / 1000).toFixed(2).padStart(7)}`,
);
