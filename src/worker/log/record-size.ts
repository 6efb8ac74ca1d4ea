/**
 * The size guard every log record passes before it is queued. A Queues message holds at most
 * 128 KB, and a send that holds one larger message fails whole, taking the records beside it
 * down too. With the context clipped where it is built (core/input-limits.ts) a record is a few
 * KB; one that is still over `MAX_RECORD_BYTES` is dropped and logged (its id, type and size),
 * not trimmed: a decision record whose context lost fields no longer rebuilds the features it
 * was decided with, and a trimmed outcome would count something other than what happened.
 *
 * For the producer: call `fitJson` (or `fitRecord`) on each record before packing it, and pack
 * only what comes back; `fitJson` returns the JSON it measured, so the packer need not serialize
 * the record again.
 */
import type { LogRecord } from '../../core/outcome-event.ts';
import { utf8Length } from '../../core/utf8.ts';
import { log } from '../shared/log.ts';

/** A queue message's 128 KB, less room for the framing around one record (an array's brackets, the message envelope). */
export const MAX_RECORD_BYTES = 120 * 1024;

export interface FittedRecord {
  readonly record: LogRecord;
  /** `JSON.stringify(record)` */
  readonly json: string;
  /** UTF-8 bytes of `json`: the queue's limits are in bytes, `.length` counts UTF-16 units */
  readonly bytes: number;
}

/** The record with its JSON and size, or null (logged) when it is too large to queue. */
export function fitJson(record: LogRecord, limit = MAX_RECORD_BYTES): FittedRecord | null {
  const json = JSON.stringify(record);
  const bytes = utf8Length(json);
  if (bytes <= limit) return { record, json, bytes };
  log.error('log record too large to queue; dropped', {
    id: record.id,
    type: record.type,
    ...(record.type === 'decision' ? { kind: record.kind, slot: record.slot } : { name: record.name }),
    bytes,
    limit,
  });
  return null;
}

/** The record, or null (logged) when it is too large to queue. */
export function fitRecord(record: LogRecord, limit = MAX_RECORD_BYTES): LogRecord | null {
  return fitJson(record, limit)?.record ?? null;
}
