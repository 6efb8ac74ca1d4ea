/**
 * The outcome log's object layout: the contract between the Worker that writes the log
 * (worker/log/log-consumer.ts), the Node tools that write it (import-obd, synthetic-log), read it
 * (train/log/files.ts) and compact it (log:compact), and any engine that reads it as a
 * hive-partitioned table.
 *
 *   log/site=<site>/dt=YYYY-MM-DD/hour=HH/<name>.ndjson.gz     one object per consumer batch
 *   log/site=<site>/dt=YYYY-MM-DD/hour=HH/<name>.parquet       that hour compacted (npm run log:compact)
 *
 * `site` is `default` until one deployment serves many sites. The hour is the UTC hour the
 * batch was enqueued (records keep their own `ts`). Logs written before the site partition
 * existed (`log/dt=…/hour=…/…`) read as site `default`.
 */
import { murmur3 } from './murmur3.ts';

export const LOG_PREFIX = 'log/';
export const DEFAULT_SITE = 'default';
const HOUR_MS = 3_600_000;

/** Site names are path segments of object keys: lower-case letters, digits, `-` and `_`. */
export const SITE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export interface LogPartition {
  readonly site: string;
  /** the UTC hour's start, ms since epoch */
  readonly hour: number;
}

/** `dt=YYYY-MM-DD/hour=HH` of the UTC hour `ms` falls in. */
export function hourPartition(ms: number): string {
  const d = new Date(ms);
  return `dt=${d.toISOString().slice(0, 10)}/hour=${String(d.getUTCHours()).padStart(2, '0')}`;
}

/** `site=<site>/dt=YYYY-MM-DD/hour=HH/`: the folder of the hour holding `ms`. */
export function partitionPath(site: string, ms: number): string {
  return `site=${site}/${hourPartition(ms)}/`;
}

/**
 * The key of one NDJSON batch object, `log/site=…/dt=…/hour=…/<13-digit ms>-<16 hex>.ndjson.gz`:
 * the hour of the batch's first enqueue, then that time and 64 bits of hash of its message ids,
 * so a redelivered batch of the same messages overwrites its own object.
 */
export function logObjectKey(firstEnqueueMs: number, messageIds: readonly string[], site = DEFAULT_SITE): string {
  const joined = [...messageIds].sort().join(',');
  const hash = murmur3(joined, 0x10a).toString(16).padStart(8, '0') + murmur3(joined, 0x10b).toString(16).padStart(8, '0');
  return `${LOG_PREFIX}${partitionPath(site, firstEnqueueMs)}${String(firstEnqueueMs).padStart(13, '0')}-${hash}.ndjson.gz`;
}

const PARTITION = /(?:^|\/)(?:site=([^/]+)\/)?dt=(\d{4}-\d\d-\d\d)\/hour=(\d\d?)\//;

/**
 * The partition of an object key or file path (either separator style is fine on POSIX paths),
 * in the new layout or the old one; null when the path has no `dt=…/hour=…/` folder pair or
 * names an impossible date or hour.
 */
export function parsePartition(path: string): LogPartition | null {
  const m = PARTITION.exec(path);
  if (!m) return null;
  const hour = Number(m[3]);
  const day = Date.parse(`${m[2]}T00:00:00Z`);
  if (!(hour >= 0 && hour < 24) || Number.isNaN(day) || new Date(day).toISOString().slice(0, 10) !== m[2]) return null;
  return { site: m[1] ?? DEFAULT_SITE, hour: day + hour * HOUR_MS };
}
