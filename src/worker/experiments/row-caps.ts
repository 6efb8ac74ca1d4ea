/**
 * What unauthenticated input can make an experiment's aggregator keep. Its two growing tables
 * are filled from open endpoints: `pending` (an exposure waiting for its conversion) by every
 * decision record of the test, and anyone can ask `/v1/decide` with a new visitor id;
 * `early` (a goal parked until its exposure arrives) by every goal naming the test that matches
 * no exposure, and anyone can post a click with a made-up `decisionId` to `/v1/events`. Both
 * rows would otherwise live for the whole attribution window (up to 30 days). So each table is
 * capped per experiment, the oldest rows (by `ts`) go first, and every eviction is counted and
 * shown in the results (`evicted`).
 *
 * The caps (docs/experiments.md, "Limits"):
 * - `pending`, 1,000,000: one row per visitor and arm per attribution window, so a test exposing
 *   a million distinct visitors a day keeps all of them for the default one-day window (11–12
 *   new visitors a second, around the clock, in one test). A row takes about 200 bytes with its
 *   indexes (450 in a contextual test, which keeps the features, 8 bytes each; about 700 when
 *   callers send the full 32 attributes), so a full table is 200–700 MB of the object's storage
 *   (a SQLite Durable Object holds up to 10 GB). Past the cap the oldest
 *   exposures leave first: those are the ones least likely to still convert (most conversions
 *   follow an exposure within minutes to hours), so a test over its cap loses little, and the
 *   count says how much.
 * - `early`, 100,000: goals that arrived before their exposure. Queue batches are unordered, but
 *   an exposure is normally at most a few retries (minutes) behind its goal; rows that never
 *   match (a made-up decision id, a visitor the test never showed) only wait for the window to
 *   close. 100,000 is an hour of goals at 25 a second, twice the longest the consumer's retries
 *   hold a batch back (about 30 minutes of backoff), and oldest-first means a flood of made-up
 *   goals pushes out only goals older than itself, the least likely to be matched still. A row
 *   takes 280 bytes with UUID ids, at most 800 with 128-character ones: 28–80 MB when full.
 */

export interface RowCaps {
  readonly pending: number;
  readonly early: number;
}
export type CappedTable = keyof RowCaps;

export const ROW_CAPS: RowCaps = { pending: 1_000_000, early: 100_000 };

/** Rows in `table` (a scan: once per object start; the aggregator counts from then on). */
export function countRows(sql: SqlStorage, table: CappedTable): number {
  return sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
}

/** Rows the last statement deleted (the cursor's rowsWritten also counts index writes on inserts). */
export function deletedRows(sql: SqlStorage): number {
  return sql.exec<{ n: number }>('SELECT changes() AS n').one().n;
}

/**
 * Deletes the `n` oldest rows of `table` (by ts, then id: the `(ts, id)` index), handing each
 * to `visit` first with the columns named in `cols` (plus ts and id); returns how many went.
 */
export function evictOldest<R extends { ts: number; id: string }>(
  sql: SqlStorage,
  table: CappedTable,
  n: number,
  cols = '',
  visit?: (row: R) => void,
): number {
  if (n <= 0) return 0;
  let last: R | undefined;
  for (const row of sql.exec<R>(`SELECT ts, id${cols ? `, ${cols}` : ''} FROM ${table} ORDER BY ts, id LIMIT ?`, n)) {
    visit?.(row);
    last = row;
  }
  if (last === undefined) return 0;
  sql.exec(`DELETE FROM ${table} WHERE (ts, id) <= (?, ?)`, last.ts, last.id);
  return deletedRows(sql);
}
