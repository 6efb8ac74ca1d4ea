/**
 * How long the strings a context is built from may be, and the memo tables' key rule. A URL,
 * Referer or User-Agent can be ~16 KB (a bid's `site.page` far more); the decision only needs
 * their first characters, and every string kept (in a decision record, an isolate's memo table)
 * must be small. Inputs are clipped where the context is built (context.ts, bid-features.ts), so
 * the features and the logged context, which a trainer rebuilds the features from, agree.
 */
export const LIMITS = {
  /** url, referrer, user agent, a bid's site.page / site.ref / device.ua */
  input: 2048,
  /** the logged path */
  path: 1024,
  /** a DNS name's longest */
  host: 253,
  /** region and city names */
  place: 128,
  /** a bid's user segment (`data id:segment id`), publisher id (campaign targets are as long) */
  id: 256,
} as const;

export function clip(s: string, max: number): string;
export function clip(s: string | undefined, max: number): string | undefined;
export function clip(s: string | undefined, max: number): string | undefined {
  return s !== undefined && s.length > max ? s.slice(0, max) : s;
}

/** Keys longer than this are computed every time rather than kept in a per-isolate memo table. */
export const MEMO_KEY_MAX = 256;

/**
 * `s` as a string of its own, to keep as a memo key: V8 makes a slice of a string (a path cut
 * from a 16 KB URL) point into the whole, which a table entry would then keep alive. Concatenating
 * builds a new string that slicing flattens into fresh storage of `s`'s length.
 */
export function ownCopy(s: string): string {
  return ` ${s}`.slice(1);
}
