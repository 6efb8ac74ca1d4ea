/**
 * One log object: a batch of records as gzip NDJSON, under an hour partition that DuckDB,
 * Spark and ClickHouse read as hive columns:
 *
 *   log/dt=YYYY-MM-DD/hour=HH/<firstEnqueueMs>-<batchHash>.ndjson.gz
 *
 * The partition is the UTC hour the batch's first message was enqueued (records keep their
 * own `ts`). The name is a function of the batch's message ids, so a redelivered batch of the
 * same messages overwrites its own object instead of writing a second copy.
 */
import { murmur3 } from '../../core/murmur3.ts';

export const LOG_PREFIX = 'log/';

export function logObjectKey(firstEnqueueMs: number, messageIds: readonly string[]): string {
  const d = new Date(firstEnqueueMs);
  const day = d.toISOString().slice(0, 10);
  const hour = String(d.getUTCHours()).padStart(2, '0');
  const joined = [...messageIds].sort().join(',');
  const hash = murmur3(joined, 0x10a).toString(16).padStart(8, '0') + murmur3(joined, 0x10b).toString(16).padStart(8, '0');
  return `${LOG_PREFIX}dt=${day}/hour=${hour}/${String(firstEnqueueMs).padStart(13, '0')}-${hash}.ndjson.gz`;
}

/** NDJSON (one record per line, trailing newline) gzipped with the platform's CompressionStream. */
export async function gzipNdjson(records: readonly unknown[]): Promise<Uint8Array> {
  let text = '';
  for (const r of records) text += JSON.stringify(r) + '\n';
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function gunzipNdjson(bytes: ArrayBuffer | Uint8Array): Promise<unknown[]> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  const text = await new Response(stream).text();
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
}
