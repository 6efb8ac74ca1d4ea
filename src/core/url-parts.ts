/**
 * The parts of a URL a decision reads (host, path, campaign tags, click ids), by string
 * scanning. A full `new URL` parse plus `searchParams` costs about 1.5 µs per request, more
 * than the rest of the context; these scans cost a few dozen nanoseconds and agree with the
 * WHATWG parser on every well-formed http(s) URL (test/unit/url-parts.test.ts).
 *
 * Deliberately lenient: no scheme means the string starts with the host (exchanges send
 * `site.page` that way), a path-only string has host '', and nothing here throws.
 */

export interface UrlParts {
  /** lower-case, without userinfo or port; '' when absent */
  readonly host: string;
  /** starts with '/'; '/' when absent */
  readonly path: string;
  /** the raw query without '?' or fragment; '' when absent */
  readonly query: string;
}

const NO_PARTS: UrlParts = { host: '', path: '/', query: '' };

export function splitUrl(url: string | null | undefined): UrlParts {
  if (!url) return NO_PARTS;
  const scheme = url.indexOf('://');
  const start = scheme === -1 || scheme > 16 ? 0 : scheme + 3;
  let end = start;
  const n = url.length;
  let upper = false; // toLowerCase costs more than this scan: call it only when needed
  while (end < n) {
    const ch = url.charCodeAt(end);
    if (ch === 47 || ch === 63 || ch === 35 || ch === 92) break; // / ? # and \ (the WHATWG parser reads it as /)
    if ((ch >= 65 && ch <= 90) || ch >= 128) upper = true;
    end++;
  }
  let hostStart = start;
  const at = end > start ? url.lastIndexOf('@', end - 1) : -1;
  if (at >= start) hostStart = at + 1;
  let hostEnd = end;
  // a port, but not the colons of an IPv6 literal
  const colon = url.lastIndexOf(':', end - 1);
  if (colon >= hostStart) {
    const close = url.indexOf(']', colon);
    if (close === -1 || close >= end) hostEnd = colon;
  }
  const raw = url.slice(hostStart, hostEnd);
  const host = upper ? raw.toLowerCase() : raw;
  const hash = url.indexOf('#', end);
  const stop = hash === -1 ? n : hash;
  const q = url.indexOf('?', end);
  const pathEnd = q === -1 || q > stop ? stop : q;
  let path = end < pathEnd && url.charCodeAt(end) !== 63 ? url.slice(end, pathEnd) : '/';
  if (path.indexOf('\\') !== -1) path = path.replaceAll('\\', '/');
  const query = q === -1 || q >= stop ? '' : url.slice(q + 1, stop);
  return { host, path, query };
}

/** What a landing URL's query says about the campaign that brought the visitor. */
export interface CampaignTags {
  readonly source: string;
  readonly medium: string;
  readonly campaign: string;
  readonly term: string;
  readonly content: string;
  /** an ad platform's click id (gclid, fbclid, …): the visit is paid whatever else it says */
  readonly clickId: boolean;
}

export const NO_CAMPAIGN: CampaignTags = { source: '', medium: '', campaign: '', term: '', content: '', clickId: false };

const CLICK_IDS = ['gclid', 'gbraid', 'wbraid', 'fbclid', 'msclkid', 'ttclid', 'dclid', 'li_fat_id'];

function isClickId(s: string, at: number, length: number): boolean {
  for (const id of CLICK_IDS) if (id.length === length && s.startsWith(id, at)) return true;
  return false;
}
const MAX_TAG = 64;

/** application/x-www-form-urlencoded value: '+' is a space, %XX are UTF-8 bytes. */
export function decodeQueryValue(raw: string): string {
  if (raw.indexOf('%') === -1 && raw.indexOf('+') === -1) return raw;
  const spaced = raw.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced; // a malformed escape: keep the text as sent
  }
}

/** Campaign tags (lower-case, at most 64 characters; the first of repeated keys wins) and click ids. */
export function campaignTags(query: string): CampaignTags {
  if (query === '') return NO_CAMPAIGN;
  let source = '', medium = '', campaign = '', term = '', content = '';
  let seen = 0; // bit per utm tag already taken
  let clickId = false;
  let i = 0;
  const n = query.length;
  while (i <= n) {
    let amp = query.indexOf('&', i);
    if (amp === -1) amp = n;
    if (amp > i) {
      let eq = query.indexOf('=', i);
      if (eq === -1 || eq > amp) eq = amp;
      const keyLength = eq - i;
      if (keyLength > 4 && query.startsWith('utm_', i)) {
        const bit = utmBit(query, i + 4, keyLength - 4);
        if (bit !== 0 && (seen & bit) === 0) {
          seen |= bit;
          const v = clip(decodeQueryValue(query.slice(Math.min(eq + 1, amp), amp)));
          if (bit === 1) source = v;
          else if (bit === 2) medium = v;
          else if (bit === 4) campaign = v;
          else if (bit === 8) term = v;
          else content = v;
        }
      } else if (!clickId && keyLength >= 5 && keyLength <= 9 && isClickId(query, i, keyLength)) clickId = true;
    }
    i = amp + 1;
  }
  return { source, medium, campaign, term, content, clickId };
}

function utmBit(s: string, at: number, length: number): number {
  switch (length) {
    case 4: return s.startsWith('term', at) ? 8 : 0;
    case 6: return s.startsWith('source', at) ? 1 : s.startsWith('medium', at) ? 2 : 0;
    case 7: return s.startsWith('content', at) ? 16 : 0;
    case 8: return s.startsWith('campaign', at) ? 4 : 0;
    default: return 0;
  }
}

function clip(s: string): string {
  const t = s.length > MAX_TAG ? s.slice(0, MAX_TAG) : s;
  for (let i = 0; i < t.length; i++) {
    const ch = t.charCodeAt(i);
    if ((ch >= 65 && ch <= 90) || ch >= 128) return t.toLowerCase();
  }
  return t;
}
