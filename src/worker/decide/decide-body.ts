/**
 * The common `POST /v1/decide` body checked by hand: what the snippet and most servers send
 * (`visitorId`, `page`, `track`, `strict`, `profile`, `slots`), every field valid. For such a
 * body `fastDecideRequest` returns exactly what the zod schema (decide-schema.ts `DecideRequest`)
 * returns, keys in the same order; for anything else (an attribute, an unknown field, a value
 * that is invalid or merely unusual) it returns null and the caller validates with zod, so every
 * error is zod's, word for word. zod's generic walk over the schema is a large part of a
 * decision's own time; this is a few type checks and the schema's own regular expressions.
 *
 * It never accepts what zod refuses: each check here is the schema's rule or a stricter one
 * (strings measured in UTF-16 units, which zod counts in code points only past the limit; a
 * page URL taken only when trimming and removing tabs and line breaks, as zod's URL check does to
 * its output, would change nothing). test/worker/decide-body.test.ts holds the two equal, in
 * workerd, on bodies valid, invalid and randomly altered.
 */
import { EXPERIMENT_KEY } from '../../core/experiments/experiment.ts';
import { distinct, NAME, PAGE_LIMITS, SLOT_ID, VISITOR_ID } from '../shared/request-schema.ts';
import { DECIDE_LIMITS, type DecideRequest } from './decide-schema.ts';

const TAB_OR_LINE_BREAK = /[\t\n\r]/;

type Fields = Record<string, unknown>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Page = NonNullable<DecideRequest['page']>;
type Slot = DecideRequest['slots'][number];

const isFields = (x: unknown): x is Fields => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Every own key of `o` is one of `known` (an unknown one zod would strip: left to zod). */
function onlyKnown(o: Fields, known: ReadonlySet<string>): boolean {
  for (const k in o) if (!known.has(k)) return false;
  return true;
}

const BODY_KEYS = new Set(['visitorId', 'page', 'track', 'strict', 'profile', 'slots']);
const PAGE_KEYS = new Set(['url', 'referrer', 'pageType']);
const SLOT_KEYS = new Set(['id', 'candidates', 'model', 'experiment']);

/** The zod schema's output for a common, valid body; null for anything else (validate it with zod). */
export function fastDecideRequest(raw: unknown): DecideRequest | null {
  if (!isFields(raw) || !onlyKnown(raw, BODY_KEYS)) return null;
  // built in the schema's key order, with only the keys the body has, as zod builds it
  const out: Mutable<DecideRequest> = {} as Mutable<DecideRequest>;
  if ('visitorId' in raw) {
    const v = raw.visitorId;
    if (typeof v !== 'string' || !VISITOR_ID.test(v)) return null;
    out.visitorId = v;
  }
  if ('page' in raw) {
    const page = pageOf(raw.page);
    if (page === null) return null;
    out.page = page;
  }
  if ('track' in raw) {
    if (typeof raw.track !== 'boolean') return null;
    out.track = raw.track;
  }
  if ('strict' in raw) {
    if (typeof raw.strict !== 'boolean') return null;
    out.strict = raw.strict;
  }
  if ('profile' in raw) {
    const p = raw.profile;
    if (typeof p !== 'string' || p.length > DECIDE_LIMITS.profile) return null;
    out.profile = p;
  }
  const slots = slotsOf(raw.slots);
  if (slots === null) return null;
  out.slots = slots;
  return out;
}

function pageOf(raw: unknown): Page | null {
  if (!isFields(raw) || !onlyKnown(raw, PAGE_KEYS)) return null;
  const out: Mutable<Page> = {};
  if ('url' in raw) {
    const u = raw.url;
    if (typeof u !== 'string' || u.length > PAGE_LIMITS.url || u.trim() !== u || TAB_OR_LINE_BREAK.test(u) || !URL.canParse(u)) return null;
    out.url = u;
  }
  if ('referrer' in raw) {
    const r = raw.referrer;
    if (typeof r !== 'string' || r.length > PAGE_LIMITS.url) return null;
    out.referrer = r;
  }
  if ('pageType' in raw) {
    const t = raw.pageType;
    if (typeof t !== 'string' || t.length < 1 || t.length > PAGE_LIMITS.pageType) return null;
    out.pageType = t;
  }
  return out;
}

function slotsOf(raw: unknown): Slot[] | null {
  if (!Array.isArray(raw) || raw.length < 1 || raw.length > DECIDE_LIMITS.slots) return null;
  const out: Slot[] = [];
  const ids = new Set<string>();
  for (const x of raw as unknown[]) {
    const slot = slotOf(x);
    if (slot === null || ids.has(slot.id)) return null; // a repeated id: zod's refinement says so
    ids.add(slot.id);
    out.push(slot);
  }
  return out;
}

function slotOf(raw: unknown): Slot | null {
  if (!isFields(raw) || !onlyKnown(raw, SLOT_KEYS)) return null;
  const id = raw.id;
  if (typeof id !== 'string' || !SLOT_ID.test(id)) return null;
  const out: Mutable<Slot> = { id };
  if ('candidates' in raw) {
    const candidates = candidatesOf(raw.candidates);
    if (candidates === null) return null;
    out.candidates = candidates;
  }
  if ('model' in raw) {
    const m = raw.model;
    if (typeof m !== 'string' || !NAME.test(m)) return null;
    out.model = m;
  }
  if ('experiment' in raw) {
    const e = raw.experiment;
    if (typeof e !== 'string' || !EXPERIMENT_KEY.test(e)) return null;
    out.experiment = e;
  }
  // the schema's refinements: something to decide with, and a model or an experiment, not both
  if (out.candidates === undefined && out.model === undefined && out.experiment === undefined) return null;
  if (out.model !== undefined && out.experiment !== undefined) return null;
  return out;
}

function candidatesOf(raw: unknown): string[] | null {
  if (!Array.isArray(raw) || raw.length < 1 || raw.length > DECIDE_LIMITS.candidates) return null;
  const out: string[] = [];
  for (const c of raw as unknown[]) {
    if (typeof c !== 'string' || c.length < 1 || c.length > DECIDE_LIMITS.candidate) return null;
    out.push(c);
  }
  return distinct(out) ? out : null;
}
