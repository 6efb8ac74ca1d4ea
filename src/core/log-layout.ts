/**
 * The outcome log's layout, one definition for the Worker that writes it (log/log-consumer.ts)
 * and the Node tools that write or read it (import-obd, synthetic-log, log-reader): hive
 * partitions by UTC hour, which DuckDB, Spark and ClickHouse read as columns `dt` and `hour`:
 *
 *   log/dt=YYYY-MM-DD/hour=HH/<firstEnqueueMs>-<batchHash>.ndjson.gz
 */
import { murmur3 } from './murmur3.ts';

/** The log's prefix in the R2 bucket (the Node tools write the partitions under a folder instead). */
export const LOG_PREFIX = 'log/';

/** `dt=YYYY-MM-DD/hour=HH` of the UTC hour `ms` falls in. */
export function hourPartition(ms: number): string {
  const d = new Date(ms);
  return `dt=${d.toISOString().slice(0, 10)}/hour=${String(d.getUTCHours()).padStart(2, '0')}`;
}

/**
 * The R2 key of one batch: the partition of the hour its first message was enqueued in (records
 * keep their own `ts`), and a name that is a function of the batch's message ids, so a
 * redelivered batch of the same messages overwrites its own object instead of writing a copy.
 */
export function logObjectKey(firstEnqueueMs: number, messageIds: readonly string[]): string {
  const joined = [...messageIds].sort().join(',');
  const hash = murmur3(joined, 0x10a).toString(16).padStart(8, '0') + murmur3(joined, 0x10b).toString(16).padStart(8, '0');
  return `${LOG_PREFIX}${hourPartition(firstEnqueueMs)}/${String(firstEnqueueMs).padStart(13, '0')}-${hash}.ndjson.gz`;
}
