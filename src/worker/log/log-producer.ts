/**
 * Puts log records (decision records, outcome events) on the events queue.
 *
 * `sendToLog` sends now and reports failure to the caller (event intake uses it: it must not
 * acknowledge what it could not queue). `logRecords` is for decision paths: records from
 * concurrent requests in this isolate are coalesced for up to FLUSH_MS into one `sendBatch`,
 * because one queue operation per request dominated the decision path's cost (bench:http
 * measures it; docs/performance.md). The request that opens a batch keeps the
 * isolate alive for it with `waitUntil`; later requests join a batch whose flush is still
 * pending, so every record is covered by some live `waitUntil`. A failed flush is retried
 * once and then logged with the record ids, so nothing disappears silently.
 */
import type { LogRecord } from '../../core/outcome-event.ts';
import { utf8Length } from '../../core/utf8.ts';
import { queueCounts } from './queue-stats.ts';
import { log } from '../shared/log.ts';

/** Queue messages are limited to 128 KB each, and a sendBatch to 100 messages and 256 KB. */
const BATCH = 100;
const BATCH_BYTES = 200 * 1024; // UTF-8 bytes of the JSON, with headroom for framing
const FLUSH_MS = 10;

export async function sendToLog(queue: Queue, records: readonly LogRecord[]): Promise<void> {
  let i = 0;
  while (i < records.length) {
    const batch: MessageSendRequest[] = [];
    let bytes = 0;
    for (; i < records.length && batch.length < BATCH; i++) {
      const size = utf8Length(JSON.stringify(records[i])); // bytes: the limits are in bytes, `.length` counts UTF-16 units
      if (batch.length > 0 && bytes + size > BATCH_BYTES) break;
      bytes += size;
      batch.push({ body: records[i], contentType: 'json' });
    }
    try {
      await queue.sendBatch(batch);
    } catch {
      await queue.sendBatch(batch); // one retry; a second failure propagates to the caller
    }
    queueCounts.sent += batch.length;
  }
}

let pending: { queue: Queue; records: LogRecord[] } | null = null;

async function flushAfter(batch: { queue: Queue; records: LogRecord[] }): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, FLUSH_MS));
  if (pending === batch) pending = null; // later records start a new batch
  try {
    await sendToLog(batch.queue, batch.records);
  } catch (err) {
    log.error('log records not queued', { ids: batch.records.map((r) => r.id), error: String(err) });
  }
}

/** Queues records off the response path, coalesced with other requests' records. */
export function logRecords(queue: Queue, records: readonly LogRecord[], waitUntil: (p: Promise<unknown>) => void): void {
  if (records.length === 0) return;
  if (pending !== null && pending.queue === queue && pending.records.length + records.length <= BATCH) {
    pending.records.push(...records);
    return;
  }
  const batch = { queue, records: [...records] };
  pending = batch;
  waitUntil(flushAfter(batch));
}
