/**
 * The log's columns as DuckDB types: how every reader reads the NDJSON objects, and the Parquet
 * schema `npm run log:compact` writes (docs/log-schema.md shows it as a table). A field not
 * named here is not in the Parquet files, so a new record field is added here too, and `v`
 * versions the records.
 *
 * `context` and `props` stay JSON text: `context.attrs` and `props` have site-defined keys, and
 * a STRUCT would fill in every key any record had (as null) and reorder them, which changes the
 * features extracted from `attrs`. JSON keeps the logged object exactly (minified).
 * Times are DOUBLE milliseconds: exact for integers, and no BigInt in JS.
 */
import { lit, litList, num } from './duckdb.ts';

export const LOG_COLUMNS = {
  type: 'VARCHAR',
  v: 'INTEGER',
  id: 'VARCHAR',
  ts: 'DOUBLE',
  receivedAt: 'DOUBLE',
  kind: 'VARCHAR',
  visitor: 'VARCHAR',
  slot: 'VARCHAR',
  model: 'STRUCT(name VARCHAR, version VARCHAR)',
  action: 'VARCHAR',
  propensity: 'DOUBLE',
  score: 'DOUBLE',
  source: 'VARCHAR',
  candidates: 'VARCHAR[]',
  probabilities: 'DOUBLE[]',
  featureSpec: 'UINTEGER',
  context: 'JSON',
  sticky: 'BOOLEAN',
  fallback: 'VARCHAR',
  experiment: 'VARCHAR',
  exchange: 'VARCHAR',
  name: 'VARCHAR',
  decisionId: 'VARCHAR',
  variant: 'VARCHAR',
  goal: 'VARCHAR',
  value: 'DOUBLE',
  currency: 'VARCHAR',
  items: 'STRUCT(id VARCHAR, price DOUBLE, quantity DOUBLE)[]',
  viewable: 'STRUCT(share DOUBLE, ms DOUBLE)',
  auction: 'STRUCT(price DOUBLE, minToWin DOUBLE, lossReason INTEGER)',
  props: 'JSON',
  country: 'VARCHAR',
} as const;

export type LogColumn = keyof typeof LOG_COLUMNS;
export const ALL_COLUMNS = Object.keys(LOG_COLUMNS) as LogColumn[];

/** The Parquet files' schema version, in their key-value metadata (`attune_schema`). */
export const PARQUET_SCHEMA_VERSION = '1';

export interface LogFiles {
  readonly ndjson: readonly string[];
  readonly parquet: readonly string[];
}

const quote = (c: string) => `"${c}"`;

/**
 * The records of `files` with the given columns (always `id` and `ts`, plus `valid`): NDJSON read as is (gzip or
 * plain), Parquet by column. Torn or non-JSON lines come back as rows of NULLs (DuckDB's
 * `ignore_errors`), and a record is `valid` as the JS reader required: a string id and a numeric
 * `ts` no later than `latest` (a time from the future is corrupt).
 */
export function recordsSql(files: LogFiles, cols: readonly LogColumn[], latest: number): string {
  const want = ALL_COLUMNS.filter((c) => c === 'id' || c === 'ts' || cols.includes(c)); // the schema's order
  const select = want.map(quote).join(', ');
  const parts: string[] = [];
  if (files.ndjson.length > 0) {
    const spec = want.map((c) => `${quote(c)}: ${lit(LOG_COLUMNS[c])}`).join(', ');
    parts.push(
      `SELECT ${select} FROM read_ndjson(${litList(files.ndjson)}, columns = {${spec}}, ignore_errors = true, hive_partitioning = false, maximum_object_size = 16777216)`,
    );
  }
  if (files.parquet.length > 0) parts.push(`SELECT ${select} FROM read_parquet(${litList(files.parquet)}, hive_partitioning = false)`);
  if (parts.length === 0) parts.push(`SELECT ${want.map((c) => `NULL::${LOG_COLUMNS[c]} AS ${quote(c)}`).join(', ')} WHERE false`);
  return `SELECT *, (id IS NOT NULL AND ts IS NOT NULL AND ts <= ${num(latest)}) AS valid FROM (${parts.join(' UNION ALL ')})`;
}
