/**
 * The visitor context: everything a decision may look at, resolved once per request from
 * platform-free inputs. The worker fills `ContextInput` from `request.cf` and headers; the
 * trainer rebuilds the same context from a logged decision record. Every kind of decision
 * (variant, recommendation, bid) reads this one shape through one feature extractor.
 */

import { clip, LIMITS } from './input-limits.ts';
import { localTime } from './local-time.ts';
import { isPageType, type PageType } from './page-type.ts';
import type { Profile } from './profile.ts';
import { classifyReferrer, type ReferrerClass } from './referrer.ts';
import { pagePartsOf, referrerPartsOf, type PageParts, type ReferrerParts } from './url-memo.ts';
import { parseUserAgent, type BrowserName, type DeviceClass, type OsName, type UserAgentInfo } from './user-agent.ts';

export type AttrValue = string | number | boolean;

export interface GeoInput {
  readonly country?: string | undefined;
  readonly region?: string | undefined;
  readonly city?: string | undefined;
  readonly asn?: number | undefined;
  readonly timezone?: string | undefined;
}

export interface ContextInput {
  /** ms since epoch */
  readonly now: number;
  /** the page the visitor is on (absolute URL), when known */
  readonly url?: string | undefined;
  readonly referrer?: string | undefined;
  readonly userAgent?: string | undefined;
  readonly geo?: GeoInput | undefined;
  /** profile before this request's page view was recorded */
  readonly profile: Profile;
  /** explicit page type; otherwise derived from the URL path */
  readonly pageType?: string | undefined;
  readonly attrs?: Readonly<Record<string, AttrValue>> | undefined;
}

export interface VisitorContext {
  readonly now: number;
  readonly country: string;
  readonly region: string;
  readonly city: string;
  readonly asn: number;
  readonly timezone: string;
  readonly device: DeviceClass;
  readonly os: OsName;
  readonly browser: BrowserName;
  readonly referrer: ReferrerClass;
  readonly referrerHost: string;
  readonly utmSource: string;
  readonly utmMedium: string;
  readonly utmCampaign: string;
  readonly utmTerm: string;
  readonly utmContent: string;
  /** the parts of the page URL, the User-Agent and the referrer these fields were read from, with their features' hashes (`extractFeatures`) */
  readonly page?: PageParts;
  readonly agent?: UserAgentInfo;
  readonly referrerParts?: ReferrerParts;
  readonly host: string;
  readonly path: string;
  readonly pageType: PageType;
  readonly hour: number;
  readonly weekday: number;
  readonly visits: number;
  readonly daysSinceLastVisit: number;
  readonly purchases: number;
  readonly profile: Profile;
  readonly attrs: Readonly<Record<string, AttrValue>>;
  /** segment ids, filled in after segment rules ran */
  segments: readonly string[];
}

/** Values used when a field is absent, so a model always sees a known token. */
export const UNKNOWN = '?';
const NO_ATTRS: Readonly<Record<string, AttrValue>> = Object.freeze({});
const NONE: readonly string[] = Object.freeze([]); // segments are set after the rules ran, never added to

/** The context of a request. Long inputs are clipped first (input-limits.ts): the same clipped strings feed the features and the log. */
export function buildContext(input: ContextInput): VisitorContext {
  const geo = input.geo ?? {};
  const page = pagePartsOf(input.url);
  const tags = page.tags;
  const referrerParts = referrerPartsOf(input.referrer);
  const referrerHost = referrerParts.host;
  const ua = parseUserAgent(clip(input.userAgent, LIMITS.input));
  const timezone = geo.timezone || 'UTC';
  const t = localTime(input.now, timezone);
  const host = page.host;
  const path = page.path;
  const explicitType = input.pageType?.toLowerCase();
  const p = input.profile;
  const lastMs = p.last * 60_000;
  return {
    now: input.now,
    country: geo.country ? geo.country.toUpperCase() : UNKNOWN,
    region: clip(geo.region, LIMITS.place) || UNKNOWN,
    city: clip(geo.city, LIMITS.place) || UNKNOWN,
    asn: geo.asn ?? 0,
    timezone,
    device: ua.device,
    os: ua.os,
    browser: ua.browser,
    referrer: classifyReferrer({ referrerHost, pageHost: host, utmMedium: tags.medium, clickId: tags.clickId }, page.landing),
    referrerHost,
    utmSource: tags.source,
    utmMedium: tags.medium,
    utmCampaign: tags.campaign,
    utmTerm: tags.term,
    utmContent: tags.content,
    page,
    agent: ua,
    referrerParts,
    host,
    path,
    pageType: explicitType && isPageType(explicitType) ? explicitType : page.pageType,
    hour: t.hour,
    weekday: t.weekday,
    visits: p.visits,
    daysSinceLastVisit: p.views === 0 ? -1 : Math.max(0, Math.floor((input.now - lastMs) / 86_400_000)),
    purchases: p.purchases,
    profile: p,
    attrs: input.attrs ?? NO_ATTRS,
    segments: NONE,
  };
}
