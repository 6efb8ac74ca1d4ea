/**
 * Tiny structural checks over parsed JSON for the OpenRTB validators. Each returns the reason
 * a value is wrong, or null when it is fine; the validator owns the field path, so a valid
 * request (the common case) builds no path strings at all.
 */

export type Json = unknown;
export type JsonObject = Record<string, unknown>;

export function isObject(v: Json): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** absent, or an object */
export function optObject(v: Json): string | null {
  return v === undefined || isObject(v) ? null : 'must be an object';
}

export function optString(v: Json): string | null {
  return v === undefined || typeof v === 'string' ? null : 'must be a string';
}

/** absent, or a finite number ≥ 0 (sizes, durations, bitrates, floors, timeouts) */
export function optNonNegative(v: Json): string | null {
  if (v === undefined) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'must be a number';
  return v < 0 ? 'must not be negative' : null;
}

export function optFinite(v: Json): string | null {
  return v === undefined || (typeof v === 'number' && Number.isFinite(v)) ? null : 'must be a number';
}

export function optInt(v: Json): string | null {
  return v === undefined || Number.isInteger(v) ? null : 'must be an integer';
}

export function optFlag(v: Json): string | null {
  return v === undefined || v === 0 || v === 1 ? null : 'must be 0 or 1';
}

export function optStringArray(v: Json): string | null {
  if (v === undefined) return null;
  if (!Array.isArray(v)) return 'must be an array of strings';
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return 'must be an array of strings';
  return null;
}

export function optIntArray(v: Json): string | null {
  if (v === undefined) return null;
  if (!Array.isArray(v)) return 'must be an array of integers';
  for (let i = 0; i < v.length; i++) if (!Number.isInteger(v[i])) return 'must be an array of integers';
  return null;
}

/** a required, non-empty array of strings (video/audio `mimes`) */
export function nonEmptyStrings(v: Json): string | null {
  if (v === undefined) return 'is required';
  if (!Array.isArray(v) || v.length === 0) return 'must be a non-empty array of strings';
  return optStringArray(v);
}

/** integer in one of the spec's ranges, or ≥ 500 (exchange-specific values) */
export function inRanges(v: Json, ranges: readonly (readonly [number, number])[]): boolean {
  if (!Number.isInteger(v)) return false;
  const n = v as number;
  if (n >= 500) return true;
  for (const [lo, hi] of ranges) if (n >= lo && n <= hi) return true;
  return false;
}
