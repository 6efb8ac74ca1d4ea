/**
 * OpenRTB request facts → the shared extractor's `FeatureInput`. Bids go through
 * `extractFeatures` like every other decision, so a pCTR model trained on the log sees the same
 * tokens for a bid as for a page decision (alpha-2 country, the UA's device/os/browser
 * vocabulary, page type from the URL path). Facts only bidding has (publisher, domain or
 * bundle, media format, size, position, deal) travel in `attrs`; `impFeatures` appends their
 * hashes (the extractor's `attrHash`, with each key's seed found once) to the request's
 * features, giving exactly the extractor's vector for each imp.
 */
import type { BidRequest, Imp } from 'iab-openrtb/v26';
import { UNKNOWN } from '../context.ts';
import {
  attrHash,
  attrHasher,
  createFeatureVector,
  extractFeatures,
  MAX_FEATURES,
  type FeatureInput,
  type FeatureVector,
} from '../features.ts';
import { pageTypeOf } from '../page-type.ts';
import { classifyReferrer, type ReferrerClass } from '../referrer.ts';
import { campaignTags, splitUrl } from '../url-parts.ts';
import { parseUserAgent, type DeviceClass } from '../user-agent.ts';
import { murmur3 } from '../murmur3.ts';
import { alpha2Country } from './country-codes.ts';
import { clip, LIMITS } from '../input-limits.ts';

export type Media = 'banner' | 'video' | 'audio' | 'native';
export const MEDIA: readonly Media[] = ['banner', 'video', 'audio', 'native'];

/** OpenRTB `device.devicetype` (AdCOM list 5) → the context's device classes. */
const DEVICE_TYPE: Readonly<Record<number, DeviceClass>> = {
  1: 'mobile',
  2: 'desktop',
  3: 'tv',
  4: 'mobile',
  5: 'tablet',
  6: 'tv',
  7: 'tv',
};
const MAX_SEGMENTS = 8;

/** What the bidder reads from the request once, before looking at any imp. */
export interface RequestFacts {
  /** the extractor's input for the request alone (no attrs: each imp adds its own) */
  readonly base: FeatureInput;
  readonly channel: 'site' | 'app' | 'dooh' | 'none';
  readonly publisher: string;
  /** site domain (no `www.`) or app bundle, lower-case; '' when unknown */
  readonly domain: string;
  readonly bundle: string;
  /** who frequency caps count: user.id, else buyeruid, else the device ad id; null when anonymous */
  readonly userKey: string | null;
  readonly countryIso2: string;
  /**
   * the attune site (docs/sites.md) whose host the request's `site.page` or `site.domain` names,
   * as the Worker resolved it; null when none does (an app, an unknown host, no sites configured)
   */
  readonly site: string | null;
}

const NO_ATTRS = Object.freeze({});

const stripWww = (h: string) => (h.startsWith('www.') ? h.slice(4) : h);

/**
 * `userKey`: `bidUserKey(req)`, when the caller has it already (it is computed once per request).
 * `siteId`: the attune site id the Worker resolved from the request's host (the core has no KV).
 */
export function requestFacts(
  req: BidRequest,
  now: number,
  userKey: string | null = bidUserKey(req),
  siteId: string | null = null,
): RequestFacts {
  const dev = req.device;
  const geo = dev?.geo ?? req.user?.geo;
  // clipped as a page's context is (input-limits.ts): these feed features and the logged context
  const ua = parseUserAgent(clip(dev?.ua, LIMITS.input));
  const site = req.site;
  const app = req.app;
  const page = splitUrl(clip(site?.page, LIMITS.input));
  const ref = splitUrl(clip(site?.ref, LIMITS.input));
  const refHost = clip(ref.host, LIMITS.host);
  const tags = campaignTags(page.query);
  const referrer: ReferrerClass = site
    ? classifyReferrer({ referrerHost: refHost, pageHost: page.host, utmMedium: tags.medium, clickId: tags.clickId })
    : 'direct';
  // local time from the geo's UTC offset (minutes) when the exchange sends it
  const offset = typeof geo?.utcoffset === 'number' ? geo.utcoffset * 60_000 : 0;
  const local = new Date(now + offset);
  const domain = stripWww((site?.domain ?? (page.host || app?.domain) ?? '').toLowerCase());
  const segments: string[] = [];
  for (const d of req.user?.data ?? []) {
    for (const s of d.segment ?? []) {
      if (segments.length < MAX_SEGMENTS && s.id) segments.push(clip(`${d.id ?? d.name ?? 'data'}:${s.id}`, LIMITS.id));
    }
  }
  const country = alpha2Country(geo?.country) ?? UNKNOWN;
  const osName = dev?.os ? dev.os.toLowerCase() : '';
  return {
    base: {
      country,
      region: clip(geo?.region, LIMITS.place) ?? UNKNOWN,
      city: clip(geo?.city, LIMITS.place) ?? UNKNOWN,
      asn: 0,
      timezone: 'UTC',
      device: (dev?.devicetype !== undefined && DEVICE_TYPE[dev.devicetype]) || ua.device,
      os: osName === 'ios' || osName === 'ipados' ? 'ios' : osName === 'android' ? 'android' : ua.os,
      browser: ua.browser,
      referrer,
      referrerHost: refHost,
      utmSource: tags.source,
      utmMedium: tags.medium,
      utmCampaign: tags.campaign,
      utmTerm: tags.term,
      utmContent: tags.content,
      path: clip(page.path, LIMITS.path),
      pageType: site ? pageTypeOf(page.path) : app ? 'app' : 'other',
      hour: local.getUTCHours(),
      weekday: local.getUTCDay(),
      visits: 0,
      daysSinceLastVisit: -1,
      purchases: 0,
      segments,
      attrs: NO_ATTRS,
    },
    channel: site ? 'site' : app ? 'app' : req.dooh ? 'dooh' : 'none',
    publisher: (site ?? app ?? req.dooh)?.publisher?.id ?? '',
    domain,
    bundle: (app?.bundle ?? '').toLowerCase(),
    userKey,
    countryIso2: country,
    site: site ? siteId : null,
  };
}

const hex8 = (x: number) => x.toString(16).padStart(8, '0');

/**
 * The key frequency caps count a user under, which notices carry back and the ledger keeps: a
 * 64-bit hash of the exchange's user id (else the buyer id, else the device's advertising id),
 * never the id itself, so no notice URL or ledger row holds a raw device id. None under COPPA or
 * limit ad tracking: those users are not tracked, and a capped campaign sits them out.
 */
export function bidUserKey(req: BidRequest): string | null {
  if (req.regs?.coppa === 1 || req.device?.lmt === 1) return null;
  const raw = req.user?.id || req.user?.buyeruid || req.device?.ifa;
  return raw ? hex8(murmur3(raw, 0x5eed_0001)) + hex8(murmur3(raw, 0x5eed_0002)) : null;
}

/** Media types the imp offers, in a fixed order. */
export function impMedia(imp: Imp): Media[] {
  const out: Media[] = [];
  for (const m of MEDIA) if (imp[m] !== undefined) out.push(m);
  return out;
}

/** "300x250" sizes the imp accepts, per medium: the banner's formats (and w/h), the video player's. */
export interface ImpSizes {
  readonly banner: readonly string[];
  readonly video: readonly string[];
}

const NO_SIZES: readonly string[] = Object.freeze([]);

export function impSizes(imp: Imp): ImpSizes {
  let banner = NO_SIZES;
  const b = imp.banner;
  if (b) {
    const out: string[] = [];
    if (b.format) for (const f of b.format) if (f.w && f.h) out.push(`${f.w}x${f.h}`);
    if (b.w && b.h) out.push(`${b.w}x${b.h}`);
    banner = out;
  }
  const v = imp.video;
  return { banner, video: v?.w && v.h ? [`${v.w}x${v.h}`] : NO_SIZES };
}

// clipped as attrs (hashed and logged), whole for targeting
const pubAttr = (facts: RequestFacts) => clip(facts.publisher, LIMITS.id);
const domainAttr = (facts: RequestFacts) => clip(facts.bundle || facts.domain, LIMITS.host);

/** The request-level features every imp shares, and the hashes of its request-level attrs. */
export interface RequestFeatures {
  readonly fv: FeatureVector;
  channel: number;
  pub: number;
  domain: number;
}

export function createRequestFeatures(): RequestFeatures {
  return { fv: createFeatureVector(), channel: 0, pub: 0, domain: 0 };
}

// one hasher per imp attr; `impFeatures` appends them in `impFeatureInput`'s key order
const CHANNEL = attrHasher('channel');
const PUB = attrHasher('pub');
const DOMAIN = attrHasher('domain');
const SIZE = attrHasher('size');
const DEAL = attrHasher('deal');
// attrs with a handful of values: hashed once
const fmtHash = attrHasher('fmt');
const FMT = Object.fromEntries(MEDIA.map((m) => [m, fmtHash(m)])) as Record<Media, number>;
const OPEN = DEAL('open');
const SMALL = 16;
const smallTable = (key: string) => Uint32Array.from({ length: SMALL }, (_, i) => attrHash(key, i));
const POS = smallTable('pos');
const INSTL = smallTable('instl');
const smallOr = (table: Uint32Array, key: string, x: number) => (x >= 0 && x < SMALL && Number.isInteger(x) ? table[x]! : attrHash(key, x));

/** The request-level features, extracted once per request (every imp shares them). */
export function requestFeatures(facts: RequestFacts, out: RequestFeatures): RequestFeatures {
  extractFeatures(facts.base, out.fv);
  out.channel = CHANNEL(facts.channel);
  out.pub = PUB(pubAttr(facts));
  out.domain = DOMAIN(domainAttr(facts));
  return out;
}

function append(fv: FeatureVector, hash: number): void {
  if (fv.length < MAX_FEATURES) {
    fv.hashes[fv.length] = hash;
    fv.values[fv.length++] = 1;
  }
}

/**
 * Exactly `extractFeatures(impFeatureInput(facts, imp, media, size, deal))`, computed as the
 * request's features plus the imp's attr hashes: the extractor pushes attrs last, in key order,
 * so appending them to a copy of the request's vector gives the same vector for a fifth of the
 * hashing and no object per imp (tested for equality).
 */
export function impFeatures(req: RequestFeatures, imp: Imp, media: Media, size: string, deal: string, out: FeatureVector): FeatureVector {
  const base = req.fv;
  out.hashes.set(base.hashes.subarray(0, base.length));
  out.values.set(base.values.subarray(0, base.length));
  out.length = base.length;
  append(out, req.channel);
  append(out, req.pub);
  append(out, req.domain);
  append(out, FMT[media]);
  append(out, SIZE(size || 'any'));
  append(out, smallOr(POS, 'pos', impPos(imp)));
  append(out, deal === 'open' ? OPEN : DEAL(deal));
  append(out, smallOr(INSTL, 'instl', imp.instl ?? 0));
  return out;
}

const impPos = (imp: Imp): number => imp.banner?.pos ?? imp.video?.pos ?? 0;

/**
 * The features of one imp: the request's context plus bidding attrs. `deal` is the deal id the
 * bid would be made in, or 'open' for the open auction.
 */
export function impFeatureInput(facts: RequestFacts, imp: Imp, media: Media, size: string, deal: string): FeatureInput {
  const attrs: Record<string, string | number> = {
    channel: facts.channel,
    pub: pubAttr(facts),
    domain: domainAttr(facts),
    fmt: media,
    size: size || 'any',
    pos: impPos(imp),
    deal,
    instl: imp.instl ?? 0,
  };
  return { ...facts.base, attrs };
}
