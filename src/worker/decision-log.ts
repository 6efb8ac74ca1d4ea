/**
 * Sends log records (decision records, outcome events) to the events queue, off the response
 * path. A failed send is retried once and then logged with the records' ids, so nothing
 * disappears silently. `sendToLog` is the one way any route puts a record on the log.
 */
import type { LogRecord } from '../core/outcome-event.ts';

/** Queue messages are limited to 128 KB each, and a sendBatch to 100 messages and 256 KB. */
const BATCH = 100;
const BATCH_BYTES = 200 * 1024; // JSON length as the size estimate, with headroom for framing

export async function sendToLog(queue: Queue, records: readonly LogRecord[]): Promise<void> {
  let i = 0;
  while (i < records.length) {
    const batch: MessageSendRequest[] = [];
    let bytes = 0;
    for (; i < records.length && batch.length < BATCH; i++) {
      const size = JSON.stringify(records[i]).length;
      if (batch.length > 0 && bytes + size > BATCH_BYTES) break;
      bytes += size;
      batch.push({ body: records[i], contentType: 'json' });
    }
    try {
      await queue.sendBatch(batch);
    } catch {
      await queue.sendBatch(batch); // one retry; a second failure propagates to the caller
    }
  }
}

/** Fire-and-forget variant for decision paths: the response does not wait, failures are logged. */
export function logRecords(queue: Queue, records: readonly LogRecord[], waitUntil: (p: Promise<unknown>) => void): void {
  if (records.length === 0) return;
  waitUntil(
    sendToLog(queue, records).catch((err: unknown) => {
      console.error(JSON.stringify({ msg: 'log records not queued', ids: records.map((r) => r.id), error: String(err) }));
    }),
  );
}
