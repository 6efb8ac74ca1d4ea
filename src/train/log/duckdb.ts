/**
 * The DuckDB instance every log reader runs on, and the few helpers they share.
 *
 * Settings: a memory limit and a temp directory of its own, so an operator that outgrows the
 * limit spills to disk instead of failing; `preserve_insertion_order` off, which lets operators
 * stream and spill (no reader relies on DuckDB's output order: they say ORDER BY when they need
 * one); and extension auto-install off, so no run ever reaches the network (json and parquet are
 * built in; `httpfs` for R2 must be installed where it is used: docs/log-schema.md).
 *
 * Results reach JS a chunk (≤ 2,048 rows) at a time, column by column (`getColumnVector(i)`
 * once per chunk, then `getItem(row)`): row objects cost several times more per row. BIGINT and
 * DECIMAL values arrive as bigint / objects, so queries cast counts and times to INTEGER or DOUBLE.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBDataChunk } from '@duckdb/node-api';
import { UsageError } from '../cli.ts';

export interface DuckOptions {
  /** DuckDB's memory limit (`256MB`, `2GB`); RSS runs some hundreds of MB above it */
  readonly memory?: string | undefined;
  readonly threads?: number | undefined;
}

export interface Duck {
  readonly con: DuckDBConnection;
  close(): void;
}

export const DEFAULT_MEMORY = '256MB';
const MEMORY = /^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i;

export async function openDuck(o: DuckOptions = {}): Promise<Duck> {
  const memory = o.memory ?? DEFAULT_MEMORY;
  if (!MEMORY.test(memory)) throw new UsageError(`--memory must be a size such as 256MB or 2GB, got "${memory}"`);
  const spill = mkdtempSync(join(tmpdir(), 'attune-duckdb-'));
  try {
    const instance = await DuckDBInstance.create(':memory:', {
      memory_limit: memory,
      temp_directory: spill,
      threads: String(o.threads ?? 2),
      preserve_insertion_order: 'false',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const con = await instance.connect();
    // Keep nothing that grows with the log: Parquet footers and file data would stay cached (an
    // object cache of ~60 KB a file, and file blocks up to the memory limit), and a slice's files
    // are not read again after the next slice.
    await con.run('SET parquet_metadata_cache = false');
    await con.run('SET enable_external_file_cache = false');
    return {
      con,
      close() {
        con.closeSync();
        instance.closeSync();
        rmSync(spill, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(spill, { recursive: true, force: true });
    throw err;
  }
}

/** A SQL string literal. */
export const lit = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** A SQL list of string literals. */
export const litList = (xs: readonly string[]): string => `[${xs.map(lit).join(', ')}]`;

/** A number as SQL: DOUBLE, so no DECIMAL arithmetic or literal parsing surprises. */
export const num = (x: number): string => (Number.isFinite(x) ? `${x}::DOUBLE` : x > 0 ? "'infinity'::DOUBLE" : "'-infinity'::DOUBLE");

/** The chunks of a streamed query, until the end. */
export async function* chunks(con: DuckDBConnection, sql: string): AsyncGenerator<DuckDBDataChunk> {
  const res = await con.stream(sql);
  for (let c = await res.fetchChunk(); c !== null && c.rowCount > 0; c = await res.fetchChunk()) yield c;
}

/** The rows of a small query as plain JS values (bigint for BIGINT: cast in SQL when a number is wanted). */
export async function rows(con: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await con.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}
