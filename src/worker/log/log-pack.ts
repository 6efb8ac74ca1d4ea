/**
 * The log queue's message format (docs/log-schema.md, "Queue messages"): many records to a
 * message, so intake costs one queue operation per ~63 KB of records instead of one per record.
 *
 * A pack is a `text` message holding the JSON `{"pack":1,"records":[<record>,…]}`, each record
 * serialized once, by the producer, and the pack written by joining those strings. The consumer
 * (`unpack`) also takes the format of before, one record per `json` message (in flight at a
 * deploy, or replayed from the dead-letter queue), and a pack that a replay tool re-sent as
 * parsed JSON or as bytes.
 *
 * Sizes are UTF-8 bytes; Cloudflare counts a KB as 1,000 bytes. Queues bill one operation per
 * 64 KB written, read or deleted, counting about 100 bytes of metadata with each message, and
 * refuse messages over 128 KB: a pack is cut at PACK_BYTES, under one billing unit with room to
 * spare, and only a record bigger than that (an event of up to 120 KiB) travels alone.
 */
import type { LogRecord } from '../../core/outcome-event.ts';

/** What a pack is cut at: records are added while the whole JSON stays within it. */
export const PACK_BYTES = 63_000;
/** The largest record a message can carry: 128 KB, less the queue's metadata and the pack's frame. */
export const MAX_RECORD_BYTES = 127_000;

const HEAD = '{"pack":1,"records":[';
const TAIL = ']}';
/** bytes of a pack's frame around its records (ASCII) */
export const FRAME_BYTES = HEAD.length + TAIL.length;

/** One pack's JSON from records already serialized. */
export const packText = (jsons: readonly string[]): string => HEAD + jsons.join(',') + TAIL;

/**
 * Cuts serialized records (with their UTF-8 sizes) into packs in order: each pack as large as
 * fits in PACK_BYTES, a larger record alone. Returns the index each pack ends at (exclusive).
 */
export function packEnds(sizes: readonly number[]): number[] {
  const ends: number[] = [];
  let bytes = FRAME_BYTES;
  let count = 0;
  for (let i = 0; i < sizes.length; i++) {
    // a comma before every record but the first
    if (count > 0 && bytes + 1 + sizes[i]! > PACK_BYTES) {
      ends.push(i);
      bytes = FRAME_BYTES;
      count = 0;
    }
    bytes += sizes[i]! + (count > 0 ? 1 : 0);
    count++;
  }
  if (count > 0) ends.push(sizes.length);
  return ends;
}

const decoder = new TextDecoder();

function isLogRecord(body: unknown): body is LogRecord {
  if (body === null || typeof body !== 'object') return false;
  const r = body as { type?: unknown; id?: unknown };
  return (r.type === 'decision' || r.type === 'outcome') && typeof r.id === 'string';
}

/**
 * The records one queue message carries: a pack's, or the one record of a message of before.
 * Null for a body that is neither; entries of a pack that are not records are skipped and
 * counted in `foreign`.
 */
export function unpack(body: unknown): { records: LogRecord[]; foreign: number } | null {
  let value = body;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) value = decoder.decode(value as ArrayBuffer | ArrayBufferView);
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return null;
    }
  }
  if (isLogRecord(value)) return { records: [value], foreign: 0 };
  if (value === null || typeof value !== 'object') return null;
  const p = value as { pack?: unknown; records?: unknown };
  if (p.pack !== 1 || !Array.isArray(p.records)) return null;
  const records: LogRecord[] = [];
  for (const r of p.records as unknown[]) if (isLogRecord(r)) records.push(r);
  return { records, foreign: p.records.length - records.length };
}
