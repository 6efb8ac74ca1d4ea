/**
 * Opens the log for a reader: lists its files (a folder, files, or the local R2 bucket), picks per
 * partition hour what to read (Parquet where compacted), starts DuckDB, and loads a slice's
 * records into a temp table. Every log reader (train, evaluate, recs:train, fit-shading,
 * insights) starts here; over a loaded slice, attribution-sql.ts builds the decision and outcome
 * tables (`d`, `o`) and the label CTEs, examples.ts gives whole labelled decisions, and
 * duckdb.ts `chunks`/`rows` read any query's results.
 *
 *   const log = await openLog({ log: ['./log'], site: 'default' });
 *   try {
 *     for (const slice of log.plan(join)) {
 *       await log.load('rec', slice, ['type', 'kind', 'action', 'context']);
 *       for await (const chunk of chunks(log.duck.con, 'SELECT … FROM rec WHERE valid …')) …
 *     }
 *   } finally { await log.close(); }
 */
import { DEFAULT_SITE, SITE_NAME } from '../../core/log-layout.ts';
import { CliError, UsageError } from '../cli.ts';
import { type LogColumn, type LogFiles, recordsSql } from './columns.ts';
import { type Duck, lit, litList, openDuck, rows } from './duckdb.ts';
import { type LogHour, type SkippedFile, selectHours, walkLog } from './files.ts';
import { localR2Copy } from './r2-local.ts';
import { DEFAULT_SLICE_BYTES, ownsHour, planSlices, readsHour, type Slice, type SliceOptions } from './slices.ts';

/** how far past this machine's clock a record's time may lie (clock skew between writers) */
export const FUTURE_SLACK_MS = 86_400_000;

export interface OpenLogOptions {
  /** folders or files */
  readonly log?: readonly string[] | undefined;
  /** the R2 bucket `LOG` as `wrangler dev` keeps it (in `persist`, or `.wrangler/state`) */
  readonly r2Local?: boolean | undefined;
  readonly persist?: string | undefined;
  readonly site?: string | undefined;
  readonly memory?: string | undefined;
  readonly threads?: number | undefined;
  readonly sliceBytes?: number | undefined;
  /**
   * only partition hours starting in [from, to) (ms); a reader of a time range adds its own
   * margins (an hour before, the attribution window and grace after) and filters on `ts`
   */
  readonly hours?: { readonly from?: number; readonly to?: number } | undefined;
}

export interface LogHandle {
  readonly duck: Duck;
  readonly site: string;
  /** the partition hours read, oldest first, with the files taken from each */
  readonly hours: readonly LogHour[];
  /** files left out: empty, not gzip, unreadable */
  readonly skipped: SkippedFile[];
  /** bytes of the files taken */
  readonly bytes: number;
  /** records newer than this are corrupt (see FUTURE_SLACK_MS) */
  readonly latest: number;
  plan(o: Omit<SliceOptions, 'sliceBytes'>): Slice[];
  /** the files of the hours `pick` accepts */
  files(pick: (hour: number | null) => boolean): LogFiles;
  /**
   * (Re)creates `table`, the records the slice reads: the given columns plus `id`, `ts`, `valid`
   * and `own` (true for records of the slice's own hours: count those, so records read by two
   * slices count once). NDJSON is parsed once, into a temp table (`<table>_ndjson`); Parquet is
   * read in place (a view: its columns are cheap to scan again, and a copy of wide rows is not).
   * A file DuckDB cannot decode is dropped and reported. `ownOnly`: the slice's own hours only,
   * for readers that join nothing across hours.
   */
  load(table: string, slice: Slice, cols: readonly LogColumn[], ownOnly?: boolean): Promise<void>;
  close(): Promise<void>;
}

function merge(hours: readonly LogHour[]): LogFiles {
  return { ndjson: hours.flatMap((h) => h.ndjson), parquet: hours.flatMap((h) => h.parquet) };
}

/** The `attune_sources` list of each Parquet file; a file whose footer cannot be read is skipped. */
async function parquetSources(duck: Duck, paths: readonly string[], skipped: SkippedFile[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const read = async (list: readonly string[]) => {
    const rs = await rows(
      duck.con,
      `SELECT file_name AS f, decode(value) AS v FROM parquet_kv_metadata(${litList(list)}) WHERE decode(key) = 'attune_sources'`,
    );
    for (const r of rs) out.set(String(r.f), JSON.parse(String(r.v)) as string[]);
  };
  if (paths.length === 0) return out;
  try {
    await read(paths);
  } catch {
    const good: string[] = [];
    for (const p of paths) {
      try {
        await rows(duck.con, `SELECT count(*) FROM parquet_kv_metadata(${lit(p)})`);
        good.push(p);
      } catch (err) {
        skipped.push({ path: p, reason: (err as Error).message.split('\n')[0]! });
      }
    }
    if (good.length > 0) await read(good);
  }
  return out;
}

export async function openLog(o: OpenLogOptions): Promise<LogHandle> {
  const site = o.site ?? DEFAULT_SITE;
  if (!SITE_NAME.test(site)) throw new UsageError(`--site must be lower-case letters, digits, - and _ (got "${site}")`);
  let roots: readonly string[];
  let cleanup = async () => {};
  if (o.r2Local) {
    const copy = await localR2Copy(o.persist);
    roots = [copy.dir];
    cleanup = copy.close;
  } else {
    if (!o.log?.length) throw new UsageError('name the log: --log <folder|file> (repeatable) or --r2-local');
    roots = o.log;
  }
  const duck = await openDuck({ memory: o.memory, threads: o.threads });
  try {
    const { files, skipped } = walkLog(roots);
    const parquet = files.filter((f) => f.format === 'parquet' && f.site === site).map((f) => f.path);
    const sources = await parquetSources(duck, parquet, skipped);
    const bad = new Set(skipped.map((s) => s.path));
    const from = o.hours?.from ?? -Infinity;
    const to = o.hours?.to ?? Infinity;
    const hours = selectHours(
      files.filter((f) => !bad.has(f.path) && (f.hour === null || (f.hour >= from && f.hour < to))),
      { site, sources },
    ).filter((h) => h.ndjson.length + h.parquet.length > 0);
    if (hours.length === 0) {
      const where = o.r2Local ? 'the local R2 bucket' : roots.join(', ');
      throw new CliError(`no log files for site "${site}" under ${where} (.ndjson, .ndjson.gz, .jsonl or .parquet)`);
    }
    const latest = Date.now() + FUTURE_SLACK_MS;
    const handle: LogHandle = {
      duck,
      site,
      hours,
      skipped,
      bytes: hours.reduce((s, h) => s + h.bytes, 0),
      latest,
      plan: (p) => planSlices(hours, { ...p, sliceBytes: o.sliceBytes ?? DEFAULT_SLICE_BYTES }),
      files: (pick) => merge(hours.filter((h) => pick(h.hour))),
      async load(table, slice, cols, ownOnly = false) {
        const own = merge(hours.filter((h) => ownsHour(slice, h.hour)));
        const margin = merge(hours.filter((h) => !ownOnly && !ownsHour(slice, h.hour) && readsHour(slice, h.hour)));
        await loadChecked(duck, table, own, margin, cols, latest, skipped, hours);
      },
      async close() {
        duck.close();
        await cleanup();
      },
    };
    return handle;
  } catch (err) {
    duck.close();
    await cleanup();
    throw err;
  }
}

const part = (files: LogFiles, cols: readonly LogColumn[], latest: number, own: boolean) =>
  `SELECT *, ${own} AS own FROM (${recordsSql(files, cols, latest)})`;

function createSql(table: string, own: LogFiles, margin: LogFiles, cols: readonly LogColumn[], latest: number): string[] {
  const ndjson = (f: LogFiles) => ({ ndjson: f.ndjson, parquet: [] });
  const parquet = (f: LogFiles) => ({ ndjson: [], parquet: f.parquet });
  return [
    `DROP VIEW IF EXISTS ${table}`,
    `DROP TABLE IF EXISTS ${table}_ndjson`, // before the next is made: not two slices at once
    `CREATE TEMP TABLE ${table}_ndjson AS ${part(ndjson(own), cols, latest, true)} UNION ALL ${part(ndjson(margin), cols, latest, false)}`,
    `CREATE TEMP VIEW ${table} AS SELECT * FROM ${table}_ndjson UNION ALL ${part(parquet(own), cols, latest, true)} UNION ALL ${part(parquet(margin), cols, latest, false)}`,
  ];
}

async function runAll(duck: Duck, sqls: readonly string[]): Promise<void> {
  for (const sql of sqls) await duck.con.run(sql);
}

/**
 * Loads the slice; when DuckDB refuses a file (a gzip stream corrupt from its start fails the
 * whole query), finds the files it refuses one by one, drops them from the log and reports them.
 */
async function loadChecked(
  duck: Duck,
  table: string,
  own: LogFiles,
  margin: LogFiles,
  cols: readonly LogColumn[],
  latest: number,
  skipped: SkippedFile[],
  hours: readonly LogHour[],
): Promise<void> {
  try {
    await runAll(duck, createSql(table, own, margin, cols, latest));
    return;
  } catch (err) {
    if (!/IO Error|Invalid Input Error|Parquet|gzip|zstd/i.test((err as Error).message)) throw err;
  }
  const bad = new Set<string>();
  for (const f of [...own.ndjson, ...margin.ndjson, ...own.parquet, ...margin.parquet]) {
    const one = f.endsWith('.parquet') ? { ndjson: [], parquet: [f] } : { ndjson: [f], parquet: [] };
    try {
      await duck.con.run(`SELECT count(*) FROM (${recordsSql(one, ['type'], latest)})`);
    } catch (err) {
      bad.add(f);
      skipped.push({ path: f, reason: (err as Error).message.split('\n')[0]! });
    }
  }
  for (const h of hours) {
    for (const list of [h.ndjson, h.parquet]) for (let i = list.length - 1; i >= 0; i--) if (bad.has(list[i]!)) list.splice(i, 1);
  }
  const keep = (fs: LogFiles): LogFiles => ({
    ndjson: fs.ndjson.filter((f) => !bad.has(f)),
    parquet: fs.parquet.filter((f) => !bad.has(f)),
  });
  await runAll(duck, createSql(table, keep(own), keep(margin), cols, latest));
}
