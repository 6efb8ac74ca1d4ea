/**
 * Sends decision records to the events queue after the response is on its way. A failed send
 * is retried once and then logged with the records' ids, so nothing disappears silently.
 */
import type { DecisionRecord } from '../core/decision-record.ts';

export function logDecisions(queue: Queue, records: readonly DecisionRecord[], waitUntil: (p: Promise<unknown>) => void): void {
  if (records.length === 0) return;
  const batch = records.map((body) => ({ body, contentType: 'json' as const }));
  waitUntil(
    queue.sendBatch(batch).catch(() => queue.sendBatch(batch)).catch((err: unknown) => {
      console.error(JSON.stringify({ msg: 'decision records not queued', ids: records.map((r) => r.id), error: String(err) }));
    }),
  );
}
