/**
 * The visitor profile: a few hundred bytes that travel in a signed cookie and give every
 * decision real-time behaviour (visits, recency, what kinds of pages were seen lately).
 *
 * Times are whole minutes since the epoch and day buckets are UTC days, so the profile stays
 * small and its encoding stable. `touchProfile` returns a new profile; nothing mutates in place.
 */

import type { PageType } from './page-type.ts';

/** Length of the per-page-type day histogram; segment rules can look back this far. */
export const PROFILE_DAYS = 14;
/** Half-life of the decayed interest counters. */
export const DECAY_HALF_LIFE_DAYS = 7;
/** A gap longer than this starts a new visit (the usual web-analytics session timeout). */
export const SESSION_GAP_MINUTES = 30;
/** At most this many sticky slot assignments are kept; the oldest go first. */
export const MAX_ASSIGNMENTS = 16;
/** Recent product ids kept for recommendations (each at most RECENT_ID_CHARS), newest first. */
export const MAX_RECENT = 10;
export const RECENT_ID_CHARS = 64;

const MINUTE = 60_000;
const DAY_MINUTES = 1440;

/** A sticky assignment: variant, model version it was chosen under, propensity, source. */
export type Assignment = readonly [variant: string, modelVersion: string, propensity: number, source: string];

export interface Profile {
  /** first seen, minutes since epoch */
  readonly first: number;
  /** last seen, minutes since epoch */
  readonly last: number;
  /** visits (sessions) */
  readonly visits: number;
  /** page views */
  readonly views: number;
  readonly purchases: number;
  /** UTC day (days since epoch) of index 0 of every `days` histogram */
  readonly day: number;
  /** page type → views per day, index 0 = `day`, 1 = the day before … */
  readonly days: Readonly<Record<string, readonly number[]>>;
  /** page type → exponentially decayed view count as of `last` */
  readonly decayed: Readonly<Record<string, number>>;
  /** slot → sticky assignment */
  readonly assignments: Readonly<Record<string, Assignment>>;
  /** recently viewed or carted product ids, newest first (absent until the first one) */
  readonly recent?: readonly string[];
}

export function newProfile(now: number): Profile {
  const m = Math.floor(now / MINUTE);
  return {
    first: m,
    last: m,
    visits: 0,
    views: 0,
    purchases: 0,
    day: Math.floor(m / DAY_MINUTES),
    days: {},
    decayed: {},
    assignments: {},
  };
}

function shiftDays(days: readonly number[], by: number): number[] {
  if (by <= 0) return days.slice();
  const out = new Array<number>(Math.min(PROFILE_DAYS, days.length + by)).fill(0);
  for (let i = 0; i < days.length && i + by < PROFILE_DAYS; i++) out[i + by] = days[i]!;
  while (out.length > 0 && out[out.length - 1] === 0) out.pop();
  return out;
}

function decayFactor(minutes: number): number {
  return Math.pow(0.5, minutes / (DECAY_HALF_LIFE_DAYS * DAY_MINUTES));
}

/** Records a page view (and optionally a purchase) at `now`. */
export function touchProfile(p: Profile, now: number, pageType: PageType, purchase = false): Profile {
  const m = Math.max(Math.floor(now / MINUTE), p.last);
  const today = Math.floor(m / DAY_MINUTES);
  const newVisit = p.views === 0 || m - p.last > SESSION_GAP_MINUTES;
  const shift = today - p.day;
  const days: Record<string, number[]> = {};
  for (const [type, hist] of Object.entries(p.days)) {
    const h = shiftDays(hist, shift);
    if (h.length > 0) days[type] = h;
  }
  const hist = days[pageType] ?? [];
  hist[0] = Math.min(255, (hist[0] ?? 0) + 1);
  days[pageType] = hist;
  const f = decayFactor(m - p.last);
  const decayed: Record<string, number> = {};
  for (const [type, v] of Object.entries(p.decayed)) {
    const d = Math.round(v * f * 100) / 100;
    if (d >= 0.05) decayed[type] = d;
  }
  decayed[pageType] = Math.round(((decayed[pageType] ?? 0) + 1) * 100) / 100;
  return {
    first: p.first,
    last: m,
    visits: p.visits + (newVisit ? 1 : 0),
    views: p.views + 1,
    purchases: p.purchases + (purchase || pageType === 'confirmation' ? 1 : 0),
    day: today,
    days,
    decayed,
    assignments: p.assignments,
    ...(p.recent ? { recent: p.recent } : {}),
  };
}

/** Views of `pageType` in the last `windowDays` days (today included), as of `now`. */
export function viewsWithin(p: Profile, pageType: string, windowDays: number, now: number): number {
  const hist = p.days[pageType];
  if (!hist) return 0;
  const age = Math.floor(now / MINUTE / DAY_MINUTES) - p.day; // days since index 0
  let n = 0;
  for (let i = 0; i < hist.length; i++) if (i + age < windowDays) n += hist[i]!;
  return n;
}

/** The decayed interest in `pageType` as of `now`. */
export function decayedViews(p: Profile, pageType: string, now: number): number {
  const v = p.decayed[pageType];
  return v === undefined ? 0 : v * decayFactor(Math.floor(now / MINUTE) - p.last);
}

export function withAssignment(p: Profile, slot: string, a: Assignment): Profile {
  const next: Record<string, Assignment> = {};
  const keys = Object.keys(p.assignments).filter((k) => k !== slot);
  for (const k of keys.slice(Math.max(0, keys.length - (MAX_ASSIGNMENTS - 1)))) next[k] = p.assignments[k]!;
  next[slot] = a;
  return { ...p, assignments: next };
}

/** Puts `ids` (the first is the newest) at the front of the recent items, deduplicated and bounded. */
export function withRecentItems(p: Profile, ids: readonly string[]): Profile {
  const next: string[] = [];
  for (const id of [...ids, ...(p.recent ?? [])]) {
    if (id.length === 0 || id.length > RECENT_ID_CHARS || next.includes(id)) continue;
    next.push(id);
    if (next.length === MAX_RECENT) break;
  }
  return { ...p, recent: next };
}

/**
 * The profile with one piece of its least valuable state dropped, to fit a size limit: the
 * least recently used assignment, then the oldest recent item, then the history of the page
 * type with the fewest views. Null when only the counters are left.
 */
export function shrinkProfile(p: Profile): Profile | null {
  const slots = Object.keys(p.assignments);
  if (slots.length > 0) {
    const next: Record<string, Assignment> = {};
    for (const k of slots.slice(1)) next[k] = p.assignments[k]!;
    return { ...p, assignments: next };
  }
  if (p.recent !== undefined && p.recent.length > 0) return { ...p, recent: p.recent.slice(0, -1) };
  const types = Object.keys(p.days);
  if (types.length > 0) {
    const total = (t: string) => p.days[t]!.reduce((a, b) => a + b, 0);
    const least = types.reduce((a, b) => (total(b) < total(a) ? b : a));
    const days = { ...p.days };
    const decayed = { ...p.decayed };
    delete days[least];
    delete decayed[least];
    return { ...p, days, decayed };
  }
  return null;
}
