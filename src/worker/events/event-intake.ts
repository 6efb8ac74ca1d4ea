/**
 * Turns a parsed `/v1/events` body into outcome events and per-event rejections.
 *
 * Body shapes: a JSON array of events; `{ events: [...] }`; a Segment call (`track`, `page`,
 * `identify`); a Segment batch `{ batch: [...] }`; or one native event object.
 *
 * Ids and idempotency: an event's id is its client id (`id`, Segment `messageId`); without one
 * but with a client `ts` it is derived from the event's content (`h-` + 64 bits of murmur3), so a
 * resent batch carries the same ids either way; with neither, each acceptance is a new event
 * (`r-` + a random UUID). Events repeated inside one request (same id) are accepted once.
 * Across requests, dedupe happens in readers (trainer, evaluator, DuckDB queries): the log is
 * at-least-once (Queues redeliver), so readers must dedupe anyway; docs/log-schema.md.
 */
import { hashVisitor } from '../../core/decision-record.ts';
import { murmur3 } from '../../core/murmur3.ts';
import type { OutcomeEvent } from '../../core/outcome-event.ts';
import { utf8Length } from '../../core/utf8.ts';
import { badRequest, HttpError } from '../shared/http-error.ts';
import { check, EVENT_LIMITS, NativeEvent, SegmentIdentify, SegmentPage, SegmentTrack, type EventIssue } from './event-schema.ts';
import { fromSegmentIdentify, fromSegmentPage, fromSegmentTrack } from './segment-calls.ts';

export interface Intake {
  readonly accepted: OutcomeEvent[];
  readonly rejected: EventIssue[];
  /** events whose id repeated an earlier event of the same request */
  readonly duplicates: number;
}

/** The list of raw entries in a body, or a 400/413 for a body that is no batch at all. */
export function entriesOf(body: unknown): unknown[] {
  let list: unknown;
  if (Array.isArray(body)) list = body;
  else if (body !== null && typeof body === 'object') {
    const o = body as Record<string, unknown>;
    if ('events' in o) list = o.events;
    else if ('batch' in o) list = o.batch;
    else list = [o];
    if (!Array.isArray(list))
      throw badRequest(`${'events' in o ? 'events' : 'batch'} must be an array`, 'events' in o ? 'events' : 'batch');
  } else throw badRequest('body must be a JSON array of events or an object', '(body)');
  const entries = list as unknown[];
  if (entries.length === 0) throw badRequest('the batch is empty', '(body)');
  if (entries.length > EVENT_LIMITS.events) {
    throw new HttpError(413, 'batch_too_large', `a batch holds at most ${EVENT_LIMITS.events} events, got ${entries.length}`, '(body)');
  }
  if (partsOf(entries) > EVENT_LIMITS.parts) {
    const message = `a batch holds at most ${EVENT_LIMITS.parts} events, items and properties in all (parts); this one holds more: send smaller batches`;
    throw new HttpError(413, 'batch_too_large', message, '(body)');
  }
  return entries;
}

const sizeOf = (x: unknown): number => (Array.isArray(x) ? x.length : x !== null && typeof x === 'object' ? Object.keys(x).length : 0);

/**
 * The events of a batch, their items and properties (native `items` and `props`; Segment
 * `properties` and `properties.products`), counted on the raw entries before any is validated:
 * what validating the batch will cost. Stops counting past the limit.
 */
export function partsOf(entries: readonly unknown[]): number {
  let n = 0;
  for (let i = 0; i < entries.length && n <= EVENT_LIMITS.parts; i++) {
    n++;
    const e = entries[i];
    if (e === null || typeof e !== 'object' || Array.isArray(e)) continue;
    const o = e as Record<string, unknown>;
    n += sizeOf(o.items) + sizeOf(o.props);
    const p = o.properties;
    if (p !== null && typeof p === 'object' && !Array.isArray(p)) n += sizeOf(p) + sizeOf((p as Record<string, unknown>).products);
  }
  return n;
}

type Native = { ok: true; value: NativeEvent } | { ok: false; field: string; reason: string };

/** Where a native field came from in a Segment call, to name the caller's own field in a 400. */
const SEGMENT_FIELD: Readonly<Record<string, string>> = {
  id: 'messageId',
  ts: 'timestamp',
  visitorId: 'anonymousId',
  decisionId: 'properties.decisionId',
  slot: 'properties.slot',
  variant: 'properties.variant',
  experiment: 'properties.experiment',
  currency: 'properties.currency',
  // taken from one of several properties (revenue, total or value), or from a filtered list
  value: 'properties',
  items: 'properties.products',
  props: 'properties',
};

/** The Segment field a native one came from; list positions are dropped where they need not match. */
function segmentField(field: string): string {
  const head = /^[A-Za-z]+/.exec(field)?.[0] ?? '';
  const mapped = SEGMENT_FIELD[head];
  if (mapped === undefined) return field;
  return head === 'items' || head === 'props' || head === 'value' ? mapped : mapped + field.slice(head.length);
}

/** Native events have `name`; Segment calls have `type` or a track `event`. */
function toNative(raw: unknown): Native {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, field: '(event)', reason: 'must be an object' };
  const o = raw as Record<string, unknown>;
  if ('name' in o && !('type' in o) && !('event' in o)) {
    // JSON keeps "__proto__" as a key, but an object built from it loses it: refuse, not drop
    if (typeof o.props === 'object' && o.props !== null && Object.hasOwn(o.props, '__proto__')) {
      return { ok: false, field: 'props.__proto__', reason: 'a reserved name' };
    }
    return check(NativeEvent, o);
  }
  let mapped: NativeEvent;
  if (o.type === 'page') {
    const r = check(SegmentPage, o);
    if (!r.ok) return r;
    mapped = fromSegmentPage(r.value);
  } else if (o.type === 'identify') {
    const r = check(SegmentIdentify, o);
    if (!r.ok) return r;
    mapped = fromSegmentIdentify(r.value);
  } else if (o.type === 'track' || (o.type === undefined && 'event' in o)) {
    const r = check(SegmentTrack, o);
    if (!r.ok) return r;
    mapped = fromSegmentTrack(r.value);
  } else if ('type' in o) {
    return { ok: false, field: 'type', reason: 'supported Segment calls are track, page and identify' };
  } else {
    return check(NativeEvent, o);
  }
  // Segment values are mapped loosely; hold the result to the native rules all the same, and
  // name what breaks them as the caller's own field.
  const r = check(NativeEvent, mapped);
  return r.ok ? r : { ...r, field: segmentField(r.field) };
}

/**
 * The id of an event the client gave none. With a client `ts`: a stable id from the content and
 * that time, so a resent batch keeps its ids. With neither id nor ts nothing tells a resend from
 * a second real event (16 identical server purchases sent at once are 16 purchases), so each one
 * accepted is a new event with a random id; the intake time cannot stand in for `ts`, since
 * concurrent requests share the millisecond.
 */
function eventId(e: NativeEvent, visitor: string | undefined): string {
  if (e.ts === undefined) return `r-${crypto.randomUUID()}`;
  const key = JSON.stringify([
    e.name,
    e.ts,
    e.decisionId,
    visitor,
    e.slot,
    e.variant,
    e.experiment,
    e.goal,
    e.value,
    e.currency,
    e.items,
    e.viewable,
    e.props,
  ]);
  return `h-${murmur3(key, 1).toString(16).padStart(8, '0')}${murmur3(key, 2).toString(16).padStart(8, '0')}`;
}

function normalize(e: NativeEvent, cookieVisitor: string | undefined, now: number, country: string | undefined): OutcomeEvent {
  const vid = e.visitorId ?? cookieVisitor;
  const visitor = vid === undefined ? undefined : hashVisitor(vid);
  // Client clocks drift: future times become now, and anything past the attribution horizon
  // is pinned to it, so one wrong clock cannot put an event outside every join window.
  const ts = e.ts === undefined ? now : Math.round(Math.min(now, Math.max(now - EVENT_LIMITS.maxAgeMs, e.ts)));
  const out: Record<string, unknown> = {
    type: 'outcome',
    v: 1,
    id: e.id ?? eventId(e, visitor),
    ts,
    receivedAt: now,
    name: e.name,
  };
  if (e.decisionId !== undefined) out.decisionId = e.decisionId;
  if (visitor !== undefined) out.visitor = visitor;
  for (const k of ['slot', 'variant', 'experiment', 'goal', 'value', 'currency', 'items', 'viewable', 'props'] as const) {
    if (e[k] !== undefined) out[k] = e[k];
  }
  // Not part of the content id: a batch resent through another location must keep its ids.
  if (country !== undefined) out.country = country;
  return out as unknown as OutcomeEvent;
}

/**
 * A body under this many characters cannot hold an event over `eventBytes` as logged (at most
 * 3 bytes per character, plus the fields normalization adds), so its events skip the check.
 */
const SMALL_BODY_CHARS = 32 * 1024;

const COUNTRY = /^[A-Z]{2}$/;

/**
 * `bodyChars`: the request body's length, to skip the size check where no event can be too big.
 * `country`: the request's (`request.cf.country`), recorded on each event when it is an ISO code.
 */
export function intakeEvents(
  entries: readonly unknown[],
  cookieVisitor: string | undefined,
  now: number,
  bodyChars = Infinity,
  country?: string,
): Intake {
  const where = country !== undefined && COUNTRY.test(country) ? country : undefined;
  const accepted: OutcomeEvent[] = [];
  const rejected: EventIssue[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  for (let i = 0; i < entries.length; i++) {
    const r = toNative(entries[i]);
    if (!r.ok) {
      rejected.push({ index: i, field: r.field, reason: r.reason });
      continue;
    }
    const event = normalize(r.value, cookieVisitor, now, where);
    if (bodyChars >= SMALL_BODY_CHARS && utf8Length(JSON.stringify(event)) > EVENT_LIMITS.eventBytes) {
      // the queue would refuse the whole batch for it, and every resend the same way
      rejected.push({ index: i, field: '(event)', reason: `larger than ${EVENT_LIMITS.eventBytes / 1024} KB as logged (UTF-8 JSON)` });
      continue;
    }
    if (seen.has(event.id)) {
      duplicates++;
      continue;
    }
    seen.add(event.id);
    accepted.push(event);
  }
  return { accepted, rejected, duplicates };
}
