/**
 * Puts log records (decision records, outcome events) on the events queue, packed many to a
 * message (log-pack.ts): Queues bill and throttle per message, so one message per record let one
 * busy client use up a queue's 5,000 messages a second for everyone.
 *
 * Records from every request of this isolate wait in one buffer per queue and leave together:
 * - `logRecords` (decision paths) does not wait: the buffer is flushed FLUSH_MS after its first
 *   record, or at once when it holds a full pack. The request that opens a buffer keeps the
 *   isolate alive for its flush with `waitUntil`, and a request that fills one flushes it under
 *   its own; later records join a buffer whose flush is still to come, so every record is
 *   covered by some live `waitUntil`.
 * - `sendToLog` (event intake, notices) flushes the buffer at once, its records and the decision
 *   records waiting there, and resolves once its own records are on the queue, or rejects if
 *   any of them is not: the caller must not acknowledge what it could not queue. It does not
 *   wait to share a message with other callers of `sendToLog`: the runtime cancels a request
 *   that waits on another request's I/O, so each caller's send runs in its own request. (Its
 *   caller keeps the request's I/O alive with `waitUntil` too, or the decision records that
 *   ride along would go with a client that hangs up.)
 * A flush sends each pack on its own (one queue operation each), retries a failed pack once,
 * and a pack that still fails fails only the callers whose records it held; records that no
 * caller awaits are logged with their ids (`log records not queued`), so nothing disappears
 * silently.
 *
 * Each record is serialized once, when it is handed over (`serialize`, which is also where a
 * record too large for any message is refused), so a flush only joins strings.
 */
import type { LogRecord } from '../../core/outcome-event.ts';
import { utf8Length } from '../../core/utf8.ts';
import { MAX_RECORD_BYTES, PACK_BYTES, packEnds, packText } from './log-pack.ts';
import { queueCounts } from './queue-stats.ts';
import { log } from '../shared/log.ts';

/**
 * How long decision records wait for others to share their message. A flush costs the request
 * it lands on about the same however many records it carries, so fewer, fuller flushes hit
 * fewer requests; records held longer are more to lose should the isolate die before its
 * `waitUntil` ran. Under load a buffer fills a pack well before this.
 */
export const FLUSH_MS = 250;

/** A `sendToLog` caller: why some of its records were not queued, once its flush is over. */
interface Waiter {
  failed: string | null;
}

interface Buffer {
  readonly jsons: string[];
  readonly sizes: number[];
  readonly ids: string[];
  /** the caller awaiting each record, or null */
  readonly owners: (Waiter | null)[];
  bytes: number;
  /** whether a timed flush of this buffer is under way */
  scheduled: boolean;
}

const buffers = new WeakMap<Queue, Buffer>();

function bufferOf(queue: Queue): Buffer {
  let b = buffers.get(queue);
  if (b === undefined) {
    b = { jsons: [], sizes: [], ids: [], owners: [], bytes: 0, scheduled: false };
    buffers.set(queue, b);
  }
  return b;
}

/** A record as a message carries it, or null for one no message can hold (logged). */
function serialize(record: LogRecord): { json: string; bytes: number } | null {
  const json = JSON.stringify(record);
  const bytes = utf8Length(json); // the limits are in bytes; `.length` counts UTF-16 units
  if (bytes <= MAX_RECORD_BYTES) return { json, bytes };
  log.error('log record too large for a queue message, not queued', { id: record.id, type: record.type, bytes });
  return null;
}

/** Adds records to the queue's buffer; returns how many it took (the others are too large). */
function add(b: Buffer, records: readonly LogRecord[], owner: Waiter | null): number {
  let n = 0;
  for (const r of records) {
    const s = serialize(r);
    if (s === null) {
      if (owner !== null) owner.failed ??= `record ${r.id} is larger than a queue message`;
      continue;
    }
    b.jsons.push(s.json);
    b.sizes.push(s.bytes);
    b.ids.push(r.id);
    b.owners.push(owner);
    b.bytes += s.bytes + 1;
    n++;
  }
  queueCounts.sent += n;
  return n;
}

/** Sends one pack, with one retry; the error of the second failure, or null. */
async function sendPack(queue: Queue, text: string): Promise<unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      await queue.send(text, { contentType: 'text' });
      return null;
    } catch (err) {
      if (attempt === 2) return err ?? new Error('send failed');
    }
  }
}

/** Sends what `b` holds, if it is still the queue's buffer (else another flush took it). Never throws. */
async function flush(queue: Queue, b: Buffer): Promise<void> {
  if (buffers.get(queue) !== b) return;
  buffers.delete(queue);
  try {
    const ends = packEnds(b.sizes);
    const starts = [0, ...ends.slice(0, -1)];
    const errors = await Promise.all(ends.map((end, k) => sendPack(queue, packText(b.jsons.slice(starts[k], end)))));
    for (let k = 0; k < ends.length; k++) {
      const err = errors[k];
      if (err === null) continue;
      const unowned: string[] = [];
      for (let i = starts[k]!; i < ends[k]!; i++) {
        const owner = b.owners[i]!;
        if (owner !== null) owner.failed ??= String(err);
        else unowned.push(b.ids[i]!);
      }
      if (unowned.length > 0) log.error('log records not queued', { ids: unowned, error: String(err) });
    }
  } catch (err) {
    // not expected (sendPack does not throw); said, and every caller told
    for (const w of b.owners) if (w !== null) w.failed ??= String(err);
    log.error('log records not queued', { ids: b.ids.filter((_, i) => b.owners[i] === null), error: String(err) });
  }
}

/** Flushes `b` now if it holds a full pack, else FLUSH_MS from its first record; the flush, if this call started one. */
function scheduleFlush(queue: Queue, b: Buffer): Promise<void> | null {
  if (b.bytes >= PACK_BYTES) return flush(queue, b); // a full pack: no reason to wait
  if (b.scheduled) return null; // an earlier request's flush will take these too, under its keep-alive
  b.scheduled = true;
  return new Promise<void>((resolve) => setTimeout(resolve, FLUSH_MS)).then(() => flush(queue, b));
}

/** Queues records off the response path, sharing messages with other requests' records. */
export function logRecords(queue: Queue, records: readonly LogRecord[], waitUntil: (p: Promise<unknown>) => void): void {
  const b = bufferOf(queue);
  if (add(b, records, null) === 0) return;
  const flushing = scheduleFlush(queue, b);
  if (flushing !== null) waitUntil(flushing);
}

/** Queues records now; resolves once every one of them is on the queue, rejects if any is not. */
export async function sendToLog(queue: Queue, records: readonly LogRecord[]): Promise<void> {
  const waiter: Waiter = { failed: null };
  const b = bufferOf(queue);
  if (add(b, records, waiter) > 0) await flush(queue, b);
  if (waiter.failed !== null) throw new Error(`log records not queued: ${waiter.failed}`);
}
