/**
 * Compaction: each closed hour's NDJSON objects become one Parquet file (zstd) in the same hive
 * layout, `site=…/dt=…/hour=…/part-0.parquet`, with the full documented schema (columns.ts) and,
 * in its key-value metadata, the names of the objects it holds (`attune_sources`, a JSON
 * array) and the schema version (`attune_schema`). Readers take an hour's Parquet in place of
 * its NDJSON, plus any object that landed after compaction (not in `attune_sources`); running
 * compaction again folds those in (the hour's Parquet is rewritten from itself and the new
 * objects), and skips hours that are up to date. Rows are sorted by type, then time, so each row
 * group's statistics let a scan for outcomes skip the decisions.
 *
 * An hour is closed once `settle` has passed since its end: a batch's object lands in the hour
 * its first message was enqueued, up to the queue's retries later (about 30 min at most).
 * Compacting earlier is safe (late objects are still read), only wasteful.
 *
 * Local folders are written file by file (a temp name, then a rename). `r2://bucket/prefix` (or
 * `s3://…`) goes through DuckDB's httpfs (docs/log-schema.md): the extension must be installed
 * where this runs, as the credentials are set up there (a DuckDB secret).
 */
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parsePartition, partitionPath } from '../../core/log-layout.ts';
import { ALL_COLUMNS, PARQUET_SCHEMA_VERSION, recordsSql } from './columns.ts';
import { type Duck, lit, rows } from './duckdb.ts';
import { type LogFile, type SkippedFile, walkLog } from './files.ts';

const HOUR = 3_600_000;
export const PARQUET_NAME = 'part-0.parquet';

export interface CompactOptions {
  /** a folder, or `r2://bucket/prefix` / `s3://…` (httpfs) */
  readonly log: string;
  readonly out: string;
  /** hours whose start is in [from, to) */
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  /** one site only (default: every site) */
  readonly site?: string | undefined;
  readonly settleMs?: number | undefined;
  readonly now?: number | undefined;
}

export interface CompactReport {
  /** hours written, the objects compacted into them, and the rows those hours now hold */
  written: number;
  objects: number;
  records: number;
  /** hours whose Parquet already held every object */
  upToDate: number;
  /** hours not yet closed, or outside --from/--to */
  leftOpen: number;
  skipped: SkippedFile[];
}

const isRemote = (p: string) => /^(r2|s3|gcs|https?):\/\//.test(p);
const joinPath = (root: string, rel: string) => (isRemote(root) ? `${root.replace(/\/+$/, '')}/${rel}` : join(root, rel));

async function listRemote(duck: Duck, root: string): Promise<LogFile[]> {
  const base = root.replace(/\/+$/, '');
  const out: LogFile[] = [];
  for (const pattern of ['**/*.ndjson.gz', '**/*.ndjson', '**/*.parquet']) {
    for (const r of await rows(duck.con, `SELECT file FROM glob(${lit(`${base}/${pattern}`)})`)) {
      const path = String(r.file);
      const p = parsePartition(path);
      out.push({
        path,
        bytes: 0,
        format: path.endsWith('.parquet') ? 'parquet' : 'ndjson',
        site: p?.site ?? 'default',
        hour: p?.hour ?? null,
      });
    }
  }
  return out;
}

async function list(duck: Duck, root: string): Promise<{ files: LogFile[]; skipped: SkippedFile[] }> {
  if (isRemote(root)) return { files: await listRemote(duck, root), skipped: [] };
  try {
    statSync(root);
  } catch {
    return { files: [], skipped: [] };
  }
  return walkLog([root]);
}

async function sourcesOf(duck: Duck, parquet: string): Promise<Set<string> | null> {
  try {
    const r = await rows(
      duck.con,
      `SELECT decode(value) AS v FROM parquet_kv_metadata(${lit(parquet)}) WHERE decode(key) = 'attune_sources'`,
    );
    return new Set(r.length === 0 ? [] : (JSON.parse(String(r[0]!.v)) as string[]));
  } catch {
    return null; // unreadable: written again from the NDJSON
  }
}

/** Objects of `ndjson` DuckDB cannot decode at all (a gzip stream corrupt from its start). */
async function unreadable(duck: Duck, ndjson: readonly string[]): Promise<string[]> {
  const bad: string[] = [];
  for (const f of ndjson) {
    try {
      await duck.con.run(`SELECT count(*) FROM (${recordsSql({ ndjson: [f], parquet: [] }, ['type'], Infinity)})`);
    } catch {
      bad.push(f);
    }
  }
  return bad;
}

export async function compactLog(duck: Duck, o: CompactOptions, onHour?: (done: number, of: number) => void): Promise<CompactReport> {
  const now = o.now ?? Date.now();
  const settle = o.settleMs ?? HOUR;
  const report: CompactReport = { written: 0, objects: 0, records: 0, upToDate: 0, leftOpen: 0, skipped: [] };
  const src = await list(duck, o.log);
  report.skipped.push(...src.skipped);
  const existing = o.out === o.log ? src.files : (await list(duck, o.out)).files;
  const byHour = new Map<string, { site: string; hour: number; objects: LogFile[] }>();
  for (const f of src.files) {
    if (f.format !== 'ndjson' || f.hour === null || (o.site !== undefined && f.site !== o.site)) continue;
    const key = `${f.site}/${f.hour}`;
    const h = byHour.get(key) ?? { site: f.site, hour: f.hour, objects: [] };
    h.objects.push(f);
    byHour.set(key, h);
  }
  const hours = [...byHour.values()].sort((a, b) => a.hour - b.hour || (a.site < b.site ? -1 : 1));
  let done = 0;
  for (const h of hours) {
    onHour?.(++done, hours.length);
    if (h.hour + HOUR + settle > now || (o.from !== undefined && h.hour < o.from) || (o.to !== undefined && h.hour >= o.to)) {
      report.leftOpen++;
      continue;
    }
    const target = joinPath(o.out, `${partitionPath(h.site, h.hour)}${PARQUET_NAME}`);
    const have = existing.some((f) => f.path === target) ? await sourcesOf(duck, target) : null;
    const fresh = h.objects.filter((f) => !have?.has(basename(f.path)));
    if (fresh.length === 0) {
      report.upToDate++;
      continue;
    }
    const earlier = have === null ? [] : [target];
    let skip = new Set<string>();
    let records: number;
    try {
      records = await writeHour(duck, target, fresh, earlier, have, skip);
    } catch (err) {
      // a corrupt object fails the whole COPY: find it, and write the hour without it
      const found = await unreadable(
        duck,
        fresh.map((f) => f.path),
      );
      if (found.length === 0) throw err;
      skip = new Set(found);
      for (const f of found)
        report.skipped.push({ path: f, reason: 'unreadable gzip (recorded as compacted, so the hour is not retried)' });
      records = await writeHour(duck, target, fresh, earlier, have, skip);
    }
    report.written++;
    report.objects += fresh.length - skip.size;
    report.records += records;
  }
  return report;
}

/**
 * Writes one hour's Parquet from `objects` (but `skip`) and the hour's earlier Parquet, listing
 * every object as a source; returns the rows written. Torn lines (rows of NULLs) are left out.
 */
async function writeHour(
  duck: Duck,
  target: string,
  objects: readonly LogFile[],
  earlier: readonly string[],
  had: ReadonlySet<string> | null,
  skip: ReadonlySet<string>,
): Promise<number> {
  const ndjson = objects.map((f) => f.path).filter((p) => !skip.has(p));
  const names = [...new Set([...(had ?? []), ...objects.map((f) => basename(f.path))])].sort();
  const remote = isRemote(target);
  const tmp = remote ? target : `${target}.tmp-${process.pid}`;
  if (!remote) mkdirSync(join(target, '..'), { recursive: true });
  const meta = `{attune_sources: ${lit(JSON.stringify(names))}, attune_schema: ${lit(PARQUET_SCHEMA_VERSION)}}`;
  const sql = `COPY (SELECT * EXCLUDE (valid) FROM (${recordsSql({ ndjson, parquet: earlier }, ALL_COLUMNS, Infinity)}) WHERE valid ORDER BY type, ts)
    TO ${lit(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880, KV_METADATA ${meta})`;
  try {
    const written = (await duck.con.run(sql)).rowsChanged;
    if (!remote) renameSync(tmp, target);
    return written;
  } catch (err) {
    if (!remote) rmSync(tmp, { force: true });
    throw err;
  }
}
