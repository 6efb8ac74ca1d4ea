/**
 * One OpenRTB 2.6 `Bid` for a priced candidate: markup, creative and campaign ids, advertiser
 * domain, size, markup type, deal, and the win/billing/loss notice URLs. Notice URLs carry what
 * the notice endpoints need to book the outcome without any state (decision, campaign, creative,
 * imp, our price, publisher, user), then the exchange's macros.
 */
import type { Bid, BidRequest, CreativeMarkupType, Imp } from 'iab-openrtb/v26';
import type { Media, RequestFacts } from './bid-features.ts';
import type { Campaign, Creative } from './campaign.ts';
import { encodeStrict } from './macros.ts';
import type { NoticeSigner } from './notice-signature.ts';

const MTYPE: Readonly<Record<Media, number>> = { banner: 1, video: 2, audio: 3, native: 4 };

/**
 * The request's part of every notice query, encoded once per request: the exchange that asked
 * (notices are booked against it), the currency the bids are in (notices book prices in it when
 * the exchange does not say), when they were made (old notices are refused), the publisher, the
 * user key (already a hash), and `test=1` for a test request (OpenRTB `test`), whose notices
 * book nothing: it is signed with the rest, so it can be neither added nor removed.
 */
export function noticeRequestQuery(facts: RequestFacts, currency: string, now: number, exchange: string, test = false): string {
  return (
    `&x=${encodeStrict(exchange)}&bc=${currency}&t=${Math.floor(now / 1000)}&pub=${encodeStrict(facts.publisher)}` +
    (facts.userKey ? `&u=${facts.userKey}` : '') +
    (test ? '&test=1' : '')
  );
}

const CLICK_MACRO = /\$\{CLICK_URL(_ENC)?\}/g;

/**
 * The markup with our `${CLICK_URL}` (and `${CLICK_URL_ENC}`, percent-encoded for a third-party
 * redirect's parameter) filled in: the click tracker, which logs the click and sends the
 * visitor on to the creative's `clickUrl`. The URL goes in as is: its `&` before our parameter
 * names is valid HTML in an attribute, and an HTML5 banner's `var clickTag = "${CLICK_URL}"`
 * must get it undecoded. Only VAST (XML), outside a CDATA section, has it written `&amp;`.
 */
export function withClickUrl(adm: string, media: Media, url: string): string {
  if (adm.indexOf('${CLICK_URL') === -1) return adm;
  const xml = media === 'video' || media === 'audio';
  const escaped = url.replace(/&/g, '&amp;');
  return adm.replace(CLICK_MACRO, (_m, enc: string | undefined, at: number) => {
    if (enc) return encodeURIComponent(url);
    if (!xml) return url;
    const inCdata = adm.lastIndexOf('<![CDATA[', at) > adm.lastIndexOf(']]>', at);
    return inCdata ? url : escaped;
  });
}

/**
 * The click tracker's query: the bid (decision, campaign, creative, imp), when it was made and
 * for which exchange, and `test=1` for a test request's ad (its click is not counted), nothing
 * more. It sits in the page, where any script can read it, so it carries neither the user key
 * (a cross-site identifier) nor our price, which the notice URLs carry to exchanges. Without
 * `exchange` it is the form clicks had before exchanges were configured (a win notice of such a
 * bid still serves it).
 */
export function clickQuery(
  decision: string,
  campaign: string,
  creative: string,
  imp: string | undefined,
  seconds: number | string,
  exchange: string | undefined,
  test = false,
): string {
  return (
    `d=${encodeStrict(decision)}&c=${encodeStrict(campaign)}&cr=${encodeStrict(creative)}` +
    `${imp === undefined ? '' : `&imp=${encodeStrict(imp)}`}&t=${seconds}${exchange === undefined ? '' : `&x=${encodeStrict(exchange)}`}` +
    (test ? '&test=1' : '')
  );
}

/** The click tracker's URL for a click query, signed (notice-signature.ts `clickSignature`). */
export const clickTrackerUrl = (noticeBase: string, query: string, signature: string | undefined): string =>
  `${noticeBase}/click?${query}${signature === undefined ? '' : `&s=${signature}`}`;

/** What every bid of a request needs for its notice and click URLs. */
export interface NoticeContext {
  /** absolute URL prefix of the notice endpoints */
  readonly base: string;
  /** `noticeRequestQuery` of the request */
  readonly requestQuery: string;
  /** when the bids are made, in seconds since the epoch */
  readonly seconds: number;
  /** the exchange the bids are for (its id, from EXCHANGE_KEYS) */
  readonly exchange: string;
  /** signs the notice queries per kind (win, billing, loss), written as `&s=`, and click queries */
  readonly signer?: NoticeSigner | undefined;
  /** a test request's bids: their clicks say so (`test=1`), as their notices do (in `requestQuery`) */
  readonly test?: boolean | undefined;
}

/** What a bid is built from: the priced decision, as the bidder logs it (`BidDecision` has these and more). */
export interface PricedBid {
  readonly decisionId: string;
  readonly campaign: string;
  readonly creative: string;
  /** the price bid (response currency) */
  readonly price: number;
  readonly ctr: number;
  readonly cvr: number;
  readonly source: 'model' | 'default';
  readonly shaded: boolean;
  readonly dealid: string | null;
  /** the placement's key (floors-feedback.ts): a win notice records what we paid there */
  readonly placement: string;
  /** `noticeQuery` of the bid */
  readonly noticeQuery: string;
}

/**
 * Our part of a bid's notice URLs (before the exchange's macros): the bid (decision, campaign,
 * creative, imp, our price, the placement) and the request's part. This is what the notice
 * signatures cover.
 */
export function noticeQuery(
  n: NoticeContext,
  d: Pick<PricedBid, 'decisionId' | 'campaign' | 'creative' | 'price' | 'placement'>,
  impId: string,
): string {
  return (
    `d=${encodeStrict(d.decisionId)}&c=${encodeStrict(d.campaign)}&cr=${encodeStrict(d.creative)}` +
    `&imp=${encodeStrict(impId)}&bid=${d.price}&pl=${d.placement}${n.requestQuery}`
  );
}

export function toBid(n: NoticeContext, req: BidRequest, imp: Imp, d: PricedBid, campaign: Campaign, cr: Creative): Bid {
  const q = d.noticeQuery;
  const base = n.base;
  const s = n.signer?.notices(q);
  let adm = cr.adm;
  if (cr.clickUrl !== undefined && adm.indexOf('${CLICK_URL') !== -1) {
    const cq = clickQuery(d.decisionId, d.campaign, d.creative, imp.id, n.seconds, n.exchange, n.test === true);
    adm = withClickUrl(adm, cr.media, clickTrackerUrl(base, cq, n.signer?.click(cq)));
  }
  const bid: Bid = {
    id: d.decisionId,
    impid: imp.id,
    price: d.price,
    adm,
    adid: cr.id,
    crid: cr.id,
    cid: campaign.id,
    adomain: [campaign.adomain],
    nurl: `${base}/win?${q}${s ? `&s=${s[0]}` : ''}&price=\${AUCTION_PRICE}&mtw=\${AUCTION_MIN_TO_WIN}&cur=\${AUCTION_CURRENCY}&auc=\${AUCTION_ID}`,
    burl: `${base}/billing?${q}${s ? `&s=${s[1]}` : ''}&price=\${AUCTION_PRICE}&cur=\${AUCTION_CURRENCY}`,
    lurl: `${base}/loss?${q}${s ? `&s=${s[2]}` : ''}&price=\${AUCTION_PRICE}&mtw=\${AUCTION_MIN_TO_WIN}&cur=\${AUCTION_CURRENCY}&reason=\${AUCTION_LOSS}&auc=\${AUCTION_ID}`,
    mtype: MTYPE[cr.media] as CreativeMarkupType,
    ext: { decisionId: d.decisionId, campaign: campaign.id, source: d.source, shaded: d.shaded, pctr: d.ctr },
  };
  if (campaign.bid.goal === 'cpa') bid.ext!.pcvr = d.cvr;
  if (cr.w && cr.h) {
    bid.w = cr.w;
    bid.h = cr.h;
  }
  if (cr.cat) bid.cat = [...cr.cat];
  if (d.dealid) bid.dealid = d.dealid;
  if (req.app && campaign.bundle) bid.bundle = campaign.bundle;
  return bid;
}
