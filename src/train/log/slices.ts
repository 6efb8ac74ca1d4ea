/**
 * Time slices: how a reader keeps memory flat as the log grows. DuckDB's memory limit bounds its
 * buffers, but a join and grouping over the whole log still grows the process (freed memory
 * stays in RSS, and some operator state is not counted), so readers process the log a slice of
 * partition hours at a time, in time order.
 *
 * A slice owns the decisions with `from ≤ ts < to`, and reads the partitions that can hold them
 * and what counts for them: from the hour before `from` (a batch's partition is the hour of its
 * first message, so a batch can straddle an hour) to the window and grace past `to` (an outcome
 * counts if it arrived by then, and it is in the partition of the hour it was enqueued, or an
 * earlier one). Every copy of a decision shares its `ts`, so the dedupe is exact within the
 * slice. A record delivered later than that (a dead-letter replay hours on) is not read with
 * its slice, and an outcome that does not count is `late` or `unattributed` by whether its
 * decision is within the slice's reach.
 *
 * Slices are cut at hour boundaries by input size (`sliceBytes` of the hours' own files, Parquet
 * bytes weighed by PARQUET_DENSITY), evenly, so a slice holds about the same number of records
 * however long the log is.
 */

const HOUR = 3_600_000;

export interface SliceOptions {
  readonly windowMs: number;
  readonly graceMs: number;
  readonly skewMs: number;
  /** input bytes (the own hours' files) per slice */
  readonly sliceBytes: number;
}

export interface Slice {
  /** the slice's decisions: from ≤ ts < to */
  readonly from: number;
  readonly to: number;
  /** partition hours it reads: readFrom ≤ hour < readTo; its own are from ≤ hour < to */
  readonly readFrom: number;
  readonly readTo: number;
}

/**
 * 8 MB of input: about 250,000 records of gzip NDJSON in consumer-sized objects, whose parsed
 * rows (the context text above all) stay within a 256 MB memory limit. Parquet is not copied
 * (its columns are read in place), so a slice of it may hold more records: PARQUET_DENSITY
 * weighs its bytes less than its density (about 2.5 times the records per byte) would.
 */
export const DEFAULT_SLICE_BYTES = 8 << 20;
export const PARQUET_DENSITY = 1.5;

/** An hour's input size for planning. */
export const sliceSize = (h: { bytes: number; parquetBytes?: number }): number => h.bytes + (PARQUET_DENSITY - 1) * (h.parquetBytes ?? 0);

const ceilHours = (ms: number) => Math.ceil(ms / HOUR) * HOUR;

/**
 * The plan for partition hours (any order) of the given sizes. A log with files outside any
 * partition (`hour: null`) is one slice: without hours there is nothing to cut by.
 */
export function planSlices(hours: readonly { hour: number | null; bytes: number; parquetBytes?: number }[], o: SliceOptions): Slice[] {
  const all: Slice = { from: -Infinity, to: Infinity, readFrom: -Infinity, readTo: Infinity };
  if (hours.length === 0 || hours.some((h) => h.hour === null)) return [all];
  const sorted = [...hours].sort((a, b) => a.hour! - b.hour!);
  // as many slices as the budget needs, cut evenly (a log just over it makes two halves, not a
  // full slice and a sliver)
  const total = sorted.reduce((s, h) => s + sliceSize(h), 0);
  const target = total / Math.max(1, Math.ceil(total / o.sliceBytes));
  const starts: number[] = [];
  let done = 0;
  for (const h of sorted) {
    // a new slice where the running total crosses the next multiple of the target
    if (starts.length === 0 || Math.floor(done / target + 1e-9) >= starts.length) starts.push(h.hour!);
    done += sliceSize(h);
  }
  const before = HOUR;
  const after = ceilHours(o.windowMs + o.graceMs);
  return starts.map((start, i) => {
    const from = i === 0 ? -Infinity : start;
    const to = i === starts.length - 1 ? Infinity : starts[i + 1]!;
    return { from, to, readFrom: from - before, readTo: to + after };
  });
}

/** Whether partition `hour` is one of the slice's own (each hour is the own hour of exactly one slice). */
export const ownsHour = (s: Slice, hour: number | null): boolean => hour === null || (hour >= s.from && hour < s.to);

/** Whether the slice reads partition `hour`. */
export const readsHour = (s: Slice, hour: number | null): boolean => hour === null || (hour >= s.readFrom && hour < s.readTo);
