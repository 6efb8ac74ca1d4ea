/**
 * The parts of a URL a decision reads (host, path, campaign tags, click ids), by string
 * scanning. A full `new URL` parse plus `searchParams` allocates a URL object and a parameter
 * list, and costs more than the rest of the context together; these scans allocate only the
 * slices they return and agree with the WHATWG parser on every well-formed http(s) URL
 * (test/unit/url-parts.test.ts).
 *
 * Deliberately lenient: no scheme means the string starts with the host (exchanges send
 * `site.page` that way), a path-only string has host '', and nothing here throws.
 */

import { utf8DecodeLenient, utf8Encode } from './utf8.ts';

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
  const start = afterScheme(url);
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

/** Where the authority starts: after `scheme://` when the string opens with one, else 0. */
function afterScheme(url: string): number {
  const n = Math.min(url.length, 32);
  for (let i = 0; i < n; i++) {
    const ch = url.charCodeAt(i) | 0x20; // lower-case letters; digits and + - . unchanged
    const letter = ch >= 97 && ch <= 122;
    if (letter || (i > 0 && ((ch >= 48 && ch <= 57) || ch === 43 || ch === 45 || ch === 46))) continue;
    if (ch !== 58 || i === 0) return 0; // no scheme: the string starts with the host
    // `scheme://host`; http(s) needs no slashes at all (`https:example.com`), as in the WHATWG parser
    let j = i + 1;
    while (j < url.length && (url.charCodeAt(j) === 47 || url.charCodeAt(j) === 92)) j++;
    if (j - i - 1 >= 2) return j;
    const scheme = url.slice(0, i).toLowerCase();
    return scheme === 'http' || scheme === 'https' ? j : 0;
  }
  return 0;
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

/**
 * application/x-www-form-urlencoded value: '+' is a space, %XX are UTF-8 bytes. As in the
 * WHATWG parser, a '%' not followed by two hex digits stays as it is and bytes that are not
 * UTF-8 become U+FFFD, without losing the rest of the value.
 */
export function decodeQueryValue(raw: string): string {
  if (raw.indexOf('%') === -1 && raw.indexOf('+') === -1) return raw;
  const spaced = raw.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return utf8DecodeLenient(percentBytes(spaced)); // rare: malformed escapes
  }
}

function hexValue(ch: number): number {
  if (ch >= 48 && ch <= 57) return ch - 48;
  const l = ch | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** The UTF-8 bytes of `s` with each valid %XX replaced by its byte. */
function percentBytes(s: string): Uint8Array {
  const text = utf8Encode(s);
  const out = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const b = text[i]!;
    if (b === 37 && i + 2 < text.length) {
      const hi = hexValue(text[i + 1]!);
      const lo = hexValue(text[i + 2]!);
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/** Campaign tags (lower-case, at most 64 characters; the first of repeated keys wins) and click ids. */
export function campaignTags(query: string): CampaignTags {
  if (query === '') return NO_CAMPAIGN;
  let source = '',
    medium = '',
    campaign = '',
    term = '',
    content = '';
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
    case 4:
      return s.startsWith('term', at) ? 8 : 0;
    case 6:
      return s.startsWith('source', at) ? 1 : s.startsWith('medium', at) ? 2 : 0;
    case 7:
      return s.startsWith('content', at) ? 16 : 0;
    case 8:
      return s.startsWith('campaign', at) ? 4 : 0;
    default:
      return 0;
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
