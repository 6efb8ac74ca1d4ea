/**
 * Profile ⇄ compact JSON text (a positional array keeps a typical profile near 200 bytes).
 * The cookie layer escapes it; the text is signed by the worker (HMAC); `parseProfile` still checks every field's type,
 * because a valid signature only proves we wrote it, possibly under an older layout.
 */

import { MAX_RECENT, RECENT_ID_CHARS, type Assignment, type Profile } from './profile.ts';

const LAYOUT = 1;

export function serializeProfile(p: Profile): string {
  const compact: unknown[] = [LAYOUT, p.first, p.last, p.visits, p.views, p.purchases, p.day, p.days, p.decayed, p.assignments];
  // Recent items are an optional 11th element, so profiles without them keep their old bytes.
  if (p.recent && p.recent.length > 0) compact.push(p.recent);
  return JSON.stringify(compact);
}

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

export function parseProfile(text: string): Profile | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(raw) || (raw.length !== 10 && raw.length !== 11) || raw[0] !== LAYOUT) return null;
  const [, first, last, visits, views, purchases, day, days, decayed, assignments, recent] = raw as unknown[];
  if (
    recent !== undefined &&
    (!Array.isArray(recent) || recent.length > MAX_RECENT || !recent.every((r) => typeof r === 'string' && r.length <= RECENT_ID_CHARS))
  )
    return null;
  if (![first, last, visits, views, purchases, day].every(isInt)) return null;
  if (!isRecord(days) || !isRecord(decayed) || !isRecord(assignments)) return null;
  for (const h of Object.values(days)) if (!Array.isArray(h) || !h.every(isInt)) return null;
  for (const v of Object.values(decayed)) if (!isNum(v)) return null;
  for (const a of Object.values(assignments)) {
    if (!Array.isArray(a) || a.length !== 4) return null;
    if (typeof a[0] !== 'string' || typeof a[1] !== 'string' || !isNum(a[2]) || typeof a[3] !== 'string') return null;
  }
  return {
    first: first as number,
    last: last as number,
    visits: visits as number,
    views: views as number,
    purchases: purchases as number,
    day: day as number,
    days: days as Record<string, number[]>,
    decayed: decayed as Record<string, number>,
    assignments: assignments as Record<string, Assignment>,
    ...(recent ? { recent: recent as string[] } : {}),
  };
}
