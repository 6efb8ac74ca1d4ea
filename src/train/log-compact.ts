/**
 * `npm run log:compact -- --log DIR --out DIR [options]`: the log's closed hours as Parquet
 * (log/compact.ts). SPEC below; `--help` prints it.
 */
import { SITE_NAME } from '../core/log-layout.ts';
import { parseDuration } from './attribution.ts';
import { CliError, type CliSpec, cliMain, dateOption, UsageError } from './cli.ts';
import { type CompactReport, compactLog } from './log/compact.ts';
import { type Duck, lit, openDuck } from './log/duckdb.ts';
import { progressBar } from './progress.ts';

/** Loads httpfs and an R2 secret from the environment, for r2:// and s3:// paths. */
async function remoteAccess(duck: Duck): Promise<void> {
  try {
    await duck.con.run('LOAD httpfs');
  } catch {
    throw new CliError(
      'r2:// and s3:// paths need DuckDB\'s httpfs extension: install it once where this runs (duckdb -c "INSTALL httpfs")',
    );
  }
  const { R2_ACCOUNT_ID: account, R2_ACCESS_KEY_ID: key, R2_SECRET_ACCESS_KEY: secret } = process.env;
  if (account && key && secret) {
    await duck.con.run(`CREATE SECRET attune_r2 (TYPE r2, KEY_ID ${lit(key)}, SECRET ${lit(secret)}, ACCOUNT_ID ${lit(account)})`);
  }
}

export function formatCompaction(r: CompactReport): string {
  const lines = [
    `compacted ${r.written} hours (${r.objects} objects, ${r.records} records in those hours); ${r.upToDate} up to date; ${r.leftOpen} open or outside the range`,
  ];
  for (const s of r.skipped) lines.push(`skipped   ${s.path}: ${s.reason}`);
  return lines.join('\n');
}

export const SPEC = {
  name: 'log:compact',
  usage: 'npm run log:compact -- --log DIR --out DIR [options]',
  summary:
    "Writes each closed hour of the log's gzip NDJSON objects as one Parquet file (zstd) in the same hive layout, site=…/dt=…/hour=…/part-0.parquet, listing the objects it holds in its metadata. Readers (train, evaluate, recs:train, fit-shading) take an hour's Parquet in place of its NDJSON, and still read objects that land after compaction; running again folds them in.",
  options: {
    log: { type: 'string', arg: 'DIR|r2://bucket/log', required: true, help: 'the log (both layouts: site=…/dt=…/hour=… and dt=…/hour=…)' },
    out: { type: 'string', arg: 'DIR|r2://bucket/log', required: true, help: 'where the Parquet goes (may be --log itself)' },
    from: { type: 'string', arg: 'ISO|MS', help: 'only hours starting at or after this time' },
    to: { type: 'string', arg: 'ISO|MS', help: 'only hours starting before this time' },
    site: { type: 'string', arg: 'NAME', help: 'only this site (default: all)' },
    settle: { type: 'string', arg: 'DURATION', default: '1h', help: 'an hour is closed this long after its end' },
    memory: { type: 'string', arg: 'SIZE', default: '512MB', help: "DuckDB's memory limit (it spills past it)" },
    quiet: { type: 'boolean', help: 'no progress bar' },
  },
  notes: [
    "r2:// and s3:// go through DuckDB's httpfs extension, which must be installed where this runs",
    '(INSTALL httpfs, once), with R2_ACCOUNT_ID, R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY set (an R2',
    'API token with object read and write on the bucket). See docs/log-schema.md.',
  ],
} as const satisfies CliSpec;

await cliMain(import.meta.url, SPEC, async ({ values: a }) => {
  if (a.site !== undefined && !SITE_NAME.test(a.site))
    throw new UsageError(`--site must be lower-case letters, digits, - and _; got "${a.site}"`);
  const from = dateOption(a.from, 'from');
  const to = dateOption(a.to, 'to');
  if (from !== undefined && to !== undefined && !(from < to)) throw new UsageError('--from must be before --to');
  const settleMs = parseDuration(a.settle);
  const duck = await openDuck({ memory: a.memory });
  try {
    if ([a.log, a.out].some((p) => /^(r2|s3):\/\//.test(p))) await remoteAccess(duck);
    const bar = a.quiet ? { update() {}, done() {} } : progressBar('compact');
    const report = await compactLog(duck, { log: a.log, out: a.out, from, to, site: a.site, settleMs }, (done, of) =>
      bar.update(done / of, `hour ${done} of ${of}`),
    );
    bar.done();
    console.log(formatCompaction(report));
  } finally {
    duck.close();
  }
  return 0;
});
