/**
 * Which files make up the log: a walk of the folders (or single files) named, each file's
 * partition read from its path (`site=…/dt=…/hour=…/`, or the older `dt=…/hour=…/`, which is
 * site `default`), and per partition hour the files a reader takes: the hour's Parquet when it
 * has any, plus any NDJSON object its Parquet does not list as a source (one that landed after
 * compaction); else the hour's NDJSON.
 *
 * The listing is done here, not by DuckDB's globbing: a glob over both layouts fails ("hive
 * partition mismatch"), and a zero-byte or non-gzip `.gz` file fails a whole query, so those are
 * dropped and reported before any query runs.
 */
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DEFAULT_SITE, parsePartition } from '../../core/log-layout.ts';

export type LogFormat = 'ndjson' | 'parquet';

export interface LogFile {
  readonly path: string;
  readonly bytes: number;
  readonly format: LogFormat;
  readonly site: string;
  /** the partition hour's start (ms); null for a file outside any `dt=…/hour=…/` folder */
  readonly hour: number | null;
}

export interface SkippedFile {
  readonly path: string;
  readonly reason: string;
}

export interface LogHour {
  readonly site: string;
  readonly hour: number | null;
  readonly ndjson: string[];
  readonly parquet: string[];
  /** bytes of the files taken, and of those the Parquet files' */
  bytes: number;
  parquetBytes: number;
  /** NDJSON objects of the hour left out because its Parquet holds them */
  compacted: number;
}

const NDJSON = /\.(ndjson|jsonl)(\.gz)?$/;
const PARQUET = /\.parquet$/;
/** an empty gzip member is 20 bytes; less cannot hold a header and trailer */
const MIN_GZIP = 18;

function gzipProblem(path: string, bytes: number): string | null {
  if (!path.endsWith('.gz')) return bytes === 0 ? 'empty' : null;
  if (bytes < MIN_GZIP) return bytes === 0 ? 'empty' : 'too short for gzip';
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(2);
    readSync(fd, b, 0, 2, 0);
    return b[0] === 0x1f && b[1] === 0x8b ? null : 'not gzip';
  } finally {
    closeSync(fd);
  }
}

function classify(path: string, bytes: number, files: LogFile[], skipped: SkippedFile[]): void {
  const format: LogFormat | null = PARQUET.test(path) ? 'parquet' : NDJSON.test(path) ? 'ndjson' : null;
  if (format === null) return;
  const problem = format === 'ndjson' ? gzipProblem(path, bytes) : bytes < 12 ? 'too short for Parquet' : null;
  if (problem !== null) {
    skipped.push({ path, reason: problem });
    return;
  }
  const p = parsePartition(path);
  files.push({ path, bytes, format, site: p?.site ?? DEFAULT_SITE, hour: p?.hour ?? null });
}

/** The log files under each root (a folder, walked recursively, or one file), in path order. */
export function walkLog(roots: readonly string[]): { files: LogFile[]; skipped: SkippedFile[] } {
  const files: LogFile[] = [];
  const skipped: SkippedFile[] = [];
  for (const root of roots) {
    const s = statSync(root);
    if (!s.isDirectory()) {
      classify(root, s.size, files, skipped);
      continue;
    }
    const rels = (readdirSync(root, { recursive: true }) as string[]).sort();
    for (const rel of rels) {
      const path = join(root, rel);
      if (!NDJSON.test(rel) && !PARQUET.test(rel)) continue;
      const st = statSync(path);
      if (st.isFile()) classify(path, st.size, files, skipped);
    }
  }
  return { files, skipped };
}

export interface SelectOptions {
  readonly site: string;
  /**
   * per Parquet file, the NDJSON object names it was compacted from (its `attune_sources`); a
   * Parquet file without an entry covers every NDJSON object of its hour
   */
  readonly sources: ReadonlyMap<string, readonly string[]>;
}

/**
 * The files a reader takes, per partition hour of one site (in time order; files outside any
 * partition form one hour of their own, `hour: null`, first).
 */
export function selectHours(files: readonly LogFile[], o: SelectOptions): LogHour[] {
  const byHour = new Map<number | null, LogFile[]>();
  for (const f of files) {
    if (f.site !== o.site) continue;
    const list = byHour.get(f.hour);
    if (list) list.push(f);
    else byHour.set(f.hour, [f]);
  }
  const out: LogHour[] = [];
  for (const [hour, list] of byHour) {
    const h: LogHour = { site: o.site, hour, ndjson: [], parquet: [], bytes: 0, parquetBytes: 0, compacted: 0 };
    const parquet = list.filter((f) => f.format === 'parquet');
    const covered = new Set<string>();
    // Parquet from another writer (no source list) stands for the whole hour
    let all = false;
    for (const f of parquet) {
      const names = o.sources.get(f.path);
      if (names === undefined) all = true;
      else for (const name of names) covered.add(name);
    }
    for (const f of list) {
      if (f.format === 'ndjson' && parquet.length > 0 && (all || covered.has(basename(f.path)))) {
        h.compacted++;
        continue;
      }
      (f.format === 'parquet' ? h.parquet : h.ndjson).push(f.path);
      h.bytes += f.bytes;
      if (f.format === 'parquet') h.parquetBytes += f.bytes;
    }
    out.push(h);
  }
  return out.sort((a, b) => (a.hour ?? -Infinity) - (b.hour ?? -Infinity));
}
