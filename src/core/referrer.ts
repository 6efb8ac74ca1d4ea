/**
 * Where the visit came from, as one of seven classes. Paid signals in the landing URL win
 * over the referrer host, because an ad click from Google is paid, not search.
 */

import { LIMITS, ownCopy } from './input-limits.ts';

export type ReferrerClass = 'search' | 'social' | 'email' | 'paid' | 'direct' | 'internal' | 'other';

const SEARCH = /(^|\.)(google|bing|duckduckgo|yahoo|baidu|yandex|ecosia|qwant|naver|seznam|startpage|brave)\./;
const SOCIAL =
  /(^|\.)(facebook|fb|instagram|t\.co|twitter|x\.com|linkedin|lnkd\.in|pinterest|reddit|tiktok|youtube|snapchat|threads|mastodon|bsky|whatsapp|telegram|vk)\b/;
const EMAIL = /(^|\.)(mail\.|outlook\.|gmail\.|webmail|mail\.yahoo|proton)/;
const PAID_MEDIUM = /^(cpc|ppc|paid|paidsearch|paid_social|paidsocial|display|cpm|cpv|affiliate|banner|retargeting)/i;

export interface ReferrerInput {
  /** Host of the Referer header, lower-case, or '' when absent. */
  readonly referrerHost: string;
  /** Host of the page being viewed, lower-case. */
  readonly pageHost: string;
  readonly utmMedium: string;
  /** The landing URL carries an ad platform's click id (gclid, fbclid, …; url-parts.ts). */
  readonly clickId: boolean;
}

type HostClass = 'search' | 'social' | 'email' | 'other';
const hostClasses = new Map<string, HostClass>();

/**
 * Host → class by the regexes above, memoized (bounded): referrer hosts repeat heavily. Only
 * hosts a DNS name can be, each kept as a string of its own (input-limits.ts).
 */
function hostClassOf(host: string): HostClass {
  let c = hostClasses.get(host);
  if (c === undefined) {
    // email before search: mail.google.com is not a search
    c = EMAIL.test(host) ? 'email' : SEARCH.test(host) ? 'search' : SOCIAL.test(host) ? 'social' : 'other';
    if (host.length <= LIMITS.host) {
      if (hostClasses.size >= 1024) hostClasses.clear();
      hostClasses.set(ownCopy(host), c);
    }
  }
  return c;
}

/**
 * What the landing URL alone says: a paid medium or an ad click id is paid, an email medium is
 * email; null when the referrer decides. A page's is computed once with its parts (url-memo.ts).
 */
export function landingClass(medium: string, clickId: boolean): ReferrerClass | null {
  if (medium && PAID_MEDIUM.test(medium)) return 'paid';
  if (clickId) return 'paid';
  if (medium === 'email' || medium === 'newsletter') return 'email';
  return null;
}

export function classifyReferrer(input: ReferrerInput, landing = landingClass(input.utmMedium, input.clickId)): ReferrerClass {
  if (landing !== null) return landing;
  const medium = input.utmMedium;
  const host = input.referrerHost;
  if (!host) return medium === 'social' ? 'social' : 'direct';
  if (host === input.pageHost || isSubdomain(host, input.pageHost)) return 'internal';
  const c = hostClassOf(host);
  return c === 'other' && medium === 'social' ? 'social' : c;
}

/** `host` ends with "." + `parent` (without building that string). */
function isSubdomain(host: string, parent: string): boolean {
  const dot = host.length - parent.length - 1;
  return dot >= 0 && host.charCodeAt(dot) === 46 && host.endsWith(parent);
}
