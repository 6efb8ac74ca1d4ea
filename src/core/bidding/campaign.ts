/**
 * Campaigns: what we buy, for how much, where and when. Stored as JSON in KV (validated at the
 * admin boundary); the bidder reads them as these plain shapes. Money is in `CAMPAIGN_CURRENCY`
 * (USD) and prices are CPM, as in OpenRTB.
 */
import type { BidRequest, Deal, Imp } from 'iab-openrtb/v26';
import type { ImpSizes, Media, RequestFacts } from './bid-features.ts';

export const CAMPAIGN_CURRENCY = 'USD';
/** How many campaigns the stored list may hold. */
export const MAX_CAMPAIGNS = 500;

export interface Creative {
  readonly id: string;
  readonly media: Media;
  /** banner/video size; absent: fits any size (native, audio, responsive) */
  readonly w?: number | undefined;
  readonly h?: number | undefined;
  /**
   * markup returned in `adm`; may contain OpenRTB macros (`${AUCTION_PRICE}` …), and our
   * `${CLICK_URL}` / `${CLICK_URL_ENC}` where the ad links out (needs `clickUrl`)
   */
  readonly adm: string;
  /** the landing page; the ad's `${CLICK_URL}` goes through our click tracker to it */
  readonly clickUrl?: string | undefined;
  /** IAB content categories of the ad, checked against `bcat` */
  readonly cat?: readonly string[] | undefined;
  /** video/audio mime type, checked against the imp's `mimes` */
  readonly mime?: string | undefined;
}

export type Goal = 'cpm' | 'cpc' | 'cpa';

export interface Campaign {
  readonly id: string;
  readonly status: 'active' | 'paused';
  /** advertiser domain (`adomain`), checked against `badv` and deal `wadomain` */
  readonly adomain: string;
  /** advertised app bundle, checked against `bapp` */
  readonly bundle?: string | undefined;
  readonly seat?: string | undefined;
  readonly budget: { readonly daily: number; readonly total?: number | undefined };
  /** ms since epoch; absent: open-ended */
  readonly schedule?:
    | { readonly start?: number | undefined; readonly end?: number | undefined; readonly hours?: readonly number[] | undefined }
    | undefined;
  /** even: spread the daily budget through the day; asap: spend as fast as it can */
  readonly pacing: 'even' | 'asap';
  readonly bid: {
    readonly goal: Goal;
    /** value per action (cpc: a click, cpa: a conversion) or the CPM itself (cpm) */
    readonly value: number;
    /** linear models in KV; the variant named like the campaign (else `*`, else the first) is used */
    readonly ctrModel?: string | undefined;
    readonly cvrModel?: string | undefined;
    /** rates used when a model is missing; absent: no bid without the model */
    readonly defaultCtr?: number | undefined;
    readonly defaultCvr?: number | undefined;
    readonly minCpm: number;
    readonly maxCpm: number;
  };
  /** multipliers by country (alpha-2), device class, daypart (night/morning/afternoon/evening), segment */
  readonly modifiers?:
    | {
        readonly geo?: Readonly<Record<string, number>> | undefined;
        readonly device?: Readonly<Record<string, number>> | undefined;
        readonly daypart?: Readonly<Record<string, number>> | undefined;
        readonly segment?: Readonly<Record<string, number>> | undefined;
      }
    | undefined;
  readonly targeting: {
    readonly media?: readonly Media[] | undefined;
    readonly countries?: readonly string[] | undefined;
    readonly devices?: readonly string[] | undefined;
    readonly os?: readonly string[] | undefined;
    readonly domains?: { readonly allow?: readonly string[] | undefined; readonly block?: readonly string[] | undefined } | undefined;
    readonly bundles?: { readonly allow?: readonly string[] | undefined; readonly block?: readonly string[] | undefined } | undefined;
    readonly publishers?: readonly string[] | undefined;
    /**
     * attune site ids (docs/sites.md): bid only on inventory of these sites, the request's host
     * resolved by the Worker (`RequestFacts.site`); never on a host no site names, nor on apps
     */
    readonly sites?: readonly string[] | undefined;
    /** deal ids this campaign may bid into */
    readonly deals?: readonly string[] | undefined;
    /** only bid into the deals above, never the open auction */
    readonly dealsOnly?: boolean | undefined;
  };
  readonly frequencyCap?: { readonly count: number; readonly hours: number } | undefined;
  readonly creatives: readonly Creative[];
}

/** The seat our bids carry when a campaign names none. */
export const DEFAULT_SEAT = 'attune';

export type Ineligible =
  | 'paused'
  | 'schedule'
  | 'media'
  | 'country'
  | 'device'
  | 'os'
  | 'domain'
  | 'bundle'
  | 'publisher'
  | 'site'
  | 'badv'
  | 'bapp'
  | 'bcat'
  | 'size'
  | 'dealsOnly'
  | 'seat';

/** `example.com` matches `example.com` and `news.example.com`. */
export function domainMatches(host: string, list: readonly string[]): boolean {
  for (let i = 0; i < list.length; i++) {
    const d = list[i]!.toLowerCase();
    if (host === d || (host.length > d.length && host.endsWith(d) && host.charCodeAt(host.length - d.length - 1) === 46)) return true;
  }
  return false;
}

/** Request-level targeting: the same for every imp of the request. */
export function requestIneligible(c: Campaign, req: BidRequest, facts: RequestFacts, now: number): Ineligible | null {
  if (c.status !== 'active') return 'paused';
  const s = c.schedule;
  if (s && ((s.start !== undefined && now < s.start) || (s.end !== undefined && now >= s.end))) return 'schedule';
  if (s?.hours && !s.hours.includes(facts.base.hour)) return 'schedule';
  const t = c.targeting;
  if (t.countries && !t.countries.includes(facts.countryIso2)) return 'country';
  if (t.devices && !t.devices.includes(facts.base.device)) return 'device';
  if (t.os && !t.os.includes(facts.base.os)) return 'os';
  if (t.publishers && !t.publishers.includes(facts.publisher)) return 'publisher';
  if (t.sites && (facts.site === null || !t.sites.includes(facts.site))) return 'site';
  // An allow list names where the campaign may run: a campaign with only a site list runs on
  // no app, and one with only an app list on no site; with both, each channel has its list.
  if (facts.channel === 'app') {
    if (t.bundles?.allow && !t.bundles.allow.includes(facts.bundle)) return 'bundle';
    if (t.bundles?.block?.includes(facts.bundle)) return 'bundle';
    if (t.domains?.allow && !t.bundles?.allow) return 'domain';
  } else {
    if (t.domains?.allow && !domainMatches(facts.domain, t.domains.allow)) return 'domain';
    if (t.domains?.block && domainMatches(facts.domain, t.domains.block)) return 'domain';
    if (t.bundles?.allow && !t.domains?.allow) return 'bundle';
  }
  // the request's buyer seat allow and block lists (§3.2.1)
  const seat = c.seat ?? DEFAULT_SEAT;
  if (req.wseat && req.wseat.length > 0 && !req.wseat.includes(seat)) return 'seat';
  if (req.bseat?.includes(seat)) return 'seat';
  if (req.badv && domainMatches(c.adomain.toLowerCase(), req.badv)) return 'badv';
  if (req.bapp && c.bundle && req.bapp.includes(c.bundle)) return 'bapp';
  return null;
}

/** Whether category `x` is blocked by `bcat`: listed itself, or a subcategory (`IAB25-3`) of one listed. */
function blocked(x: string, bcat: readonly string[]): boolean {
  for (let i = 0; i < bcat.length; i++) {
    const b = bcat[i]!;
    if (x === b || (x.length > b.length && x.charCodeAt(b.length) === 45 /* - */ && x.startsWith(b))) return true;
  }
  return false;
}

function anyBlocked(cats: readonly string[], bcat: readonly string[]): boolean {
  for (let i = 0; i < cats.length; i++) if (blocked(cats[i]!, bcat)) return true;
  return false;
}

/** "300x250" of each sized creative, built once (campaign lists are long-lived config); '' when unsized. */
const sizeKeys = new WeakMap<Creative, string>();
export function creativeSize(cr: Creative): string {
  let k = sizeKeys.get(cr);
  if (k === undefined) sizeKeys.set(cr, (k = cr.w && cr.h ? `${cr.w}x${cr.h}` : ''));
  return k;
}

/** The first of the imp's deals that campaign `c` targets and may bid in (its seat and domain allowed), or null. */
export function dealFor(c: Campaign, deals: readonly Deal[]): Deal | null {
  for (const d of deals) {
    if (!c.targeting.deals?.includes(d.id)) continue;
    if (d.wseat && d.wseat.length > 0 && !d.wseat.includes(c.seat ?? DEFAULT_SEAT)) continue;
    if (d.wadomain && d.wadomain.length > 0 && !d.wadomain.includes(c.adomain)) continue;
    return d;
  }
  return null;
}

/**
 * A creative of `c` that fits the imp and passes `bcat`/`battr`-style blocks, or why none does.
 * A sized banner must match one of the banner's formats, a sized video the player's size.
 */
export function pickCreative(c: Campaign, imp: Imp, bcat: readonly string[] | undefined, sizes: ImpSizes): Creative | Ineligible {
  let why: Ineligible = 'media';
  for (let i = 0; i < c.creatives.length; i++) {
    const cr = c.creatives[i]!;
    if (imp[cr.media] === undefined) continue;
    if (c.targeting.media && !c.targeting.media.includes(cr.media)) continue;
    if (bcat && cr.cat && anyBlocked(cr.cat, bcat)) {
      why = 'bcat';
      continue;
    }
    const fits = cr.media === 'banner' ? sizes.banner : cr.media === 'video' ? sizes.video : null;
    if (fits !== null && fits.length > 0 && cr.w !== undefined && cr.h !== undefined && !fits.includes(creativeSize(cr))) {
      why = 'size';
      continue;
    }
    const mimes = cr.media === 'video' ? imp.video?.mimes : cr.media === 'audio' ? imp.audio?.mimes : undefined;
    if (cr.mime && mimes && !mimes.includes(cr.mime)) {
      why = 'media';
      continue;
    }
    return cr;
  }
  return why;
}
