/**
 * The bidder: a validated BidRequest, the campaigns, models and state in; a BidResponse (or
 * none) and one decision per bid out. Pure: the worker supplies models, spend and frequency
 * state, the random draws and ids, so the same inputs always give the same bids.
 *
 * Per imp: floor (converted to the campaign currency), deals, then for each campaign that
 * passes request-level targeting: creative fit, bcat, frequency cap, pacing (its share is
 * computed once per request, the draw made per imp), pCTR/pCVR from the shared features
 * (request features scored once, each imp adding its own), value, and the price: truthful
 * under second price (`at=2`), shaded from the win-rate curve under first price (`at=1`).
 * The best price per imp is bid.
 */
import type { Bid, BidRequest, BidResponse, Imp, SeatBid } from 'iab-openrtb/v26';
import { noticeRequestQuery, toBid, type NoticeContext } from './bid-response.ts';
import type { NoticeSigner } from './notice-signature.ts';
import { createFeatureVector, type FeatureInput } from '../features.ts';
import { addRows, finishScores, sigmoid, type LinearModel } from '../linear-model.ts';
import {
  createRequestFeatures,
  impFeatureInput,
  impFeatures,
  impSizes,
  requestFacts,
  requestFeatures,
  type Media,
  type RequestFacts,
} from './bid-features.ts';
import {
  CAMPAIGN_CURRENCY,
  creativeSize,
  dealFor,
  DEFAULT_SEAT,
  pickCreative,
  requestIneligible,
  type Campaign,
  type Creative,
} from './campaign.ts';
import { convert, responseCurrency, type RatesTable } from './currency.ts';
import { pacingRate, underFrequencyCap, type SpendState } from './pacing.ts';
import { impressionValue, modifierOf } from './pricing.ts';
import { curveFor, type ShadingModel } from './shading-model.ts';
import { shadeBid, type WinCurve } from './win-curve.ts';

export interface CampaignState {
  readonly spend: SpendState | null;
  /** impressions this request's user has seen from the campaign within its cap window */
  readonly seen: number;
}

/** A linear model by name: the model, or null when it could not be loaded (with why). */
export type ModelLookup = (name: string) => LinearModel | null;

export interface BidderInput {
  readonly request: BidRequest;
  /** `bidUserKey(request)`, when the caller computed it already (the Worker does, once per request) */
  readonly userKey?: string | null;
  readonly now: number;
  readonly campaigns: readonly Campaign[];
  readonly rates: RatesTable;
  readonly models: ModelLookup;
  readonly shading: ShadingModel | null;
  readonly state: (campaignId: string) => CampaignState;
  /** uniform draw in [0, 1) for pacing */
  readonly uniform: () => number;
  readonly newId: () => string;
  /** absolute URL prefix of the notice endpoints, e.g. `https://bid.example.com/openrtb2` */
  readonly noticeBase: string;
  /** the exchange that sent the request (exchange-keys.ts): named, signed, in every notice URL */
  readonly exchange: string;
  /**
   * Signs a bid's notice URLs (one signature per kind: win, billing, loss) and click-tracker
   * URL, written as `&s=` (notice-signature.ts). The Worker always signs; without it (tests of
   * pricing alone) the URLs carry none and the notice routes would refuse them.
   */
  readonly signer?: NoticeSigner;
}

/** One bid, as the decision log and the notice URLs need it. */
export interface BidDecision {
  readonly decisionId: string;
  readonly impid: string;
  readonly campaign: string;
  readonly creative: string;
  /** the campaign's value (CPM, campaign currency) and the price bid (response currency) */
  readonly value: number;
  readonly price: number;
  readonly ctr: number;
  readonly cvr: number;
  readonly source: 'model' | 'default';
  readonly shaded: boolean;
  readonly dealid: string | null;
  /** the pCTR model used (null: fixed CPM or default rate) */
  readonly model: { readonly name: string; readonly version: string } | null;
  /** probability this bid was made: the pacing rate it passed (1 when unthrottled) */
  readonly propensity: number;
  readonly context: FeatureInput;
  /** our part of the notice URLs' query (before the exchange's macros): what the worker signs */
  noticeQuery: string;
}

export type SkipReason = string;

export interface BidderOutput {
  readonly response: BidResponse | null;
  readonly decisions: readonly BidDecision[];
  /** why campaigns or imps were skipped, counted: `pacing: 2, floor: 1` */
  readonly skipped: Readonly<Record<SkipReason, number>>;
  /** models that were missing when a campaign needed them */
  readonly fallbacks: readonly string[];
  readonly currency: string;
}

export interface Candidate {
  readonly campaign: Campaign;
  readonly creative: Creative;
  readonly value: number;
  readonly priceBase: number;
  readonly ctr: number;
  readonly cvr: number;
  readonly source: 'model' | 'default';
  readonly shaded: boolean;
  readonly dealid: string | null;
  /** the pCTR model used (null: fixed CPM or default rate) */
  readonly model: LinearModel | null;
  /** floor in the campaign currency, and the auction type (1 first, 2 second, 3 fixed deal price) */
  readonly floor: number;
  readonly auction: number;
  /**
   * The probability that this campaign was the one to bid here: its pacing draw passed, and the
   * draw of every contender that would have beaten it failed. Logged as the propensity.
   */
  readonly rate: number;
}

/** Per imp: value and pacing rate of each campaign that could have bid, flat pairs (reused scratch). */
const contenders: number[] = [];

/**
 * The winner's propensity: its own rate times (1 − rate) for each contender that would have
 * won had its draw passed: a higher value, or an equal one earlier in the list (the first of
 * equals wins). `at` is the winner's index among the contenders.
 */
function winProbability(at: number): number {
  const value = contenders[2 * at]!;
  let p = contenders[2 * at + 1]!;
  for (let j = 0; j < contenders.length / 2; j++) {
    const v = contenders[2 * j]!;
    if (v > value || (v === value && j < at)) p *= 1 - contenders[2 * j + 1]!;
  }
  return p;
}

// reused: the bidder runs synchronously, one request at a time per isolate
const shared = createRequestFeatures();
const fv = createFeatureVector();

/** A model's scores within one request: raw sums over the request's features, and the current imp's logits. */
interface Scored {
  readonly model: LinearModel;
  readonly sums: Float64Array;
  readonly logits: Float64Array;
  /** the feature combination (`RequestRun.combination`) whose logits `logits` holds (-1: none yet) */
  combination: number;
}

/** two buffers per model name, reused across requests (MAX_VARIANTS wide) */
const buffers = new Map<string, [Float64Array, Float64Array]>();
function buffersOf(name: string): [Float64Array, Float64Array] {
  let b = buffers.get(name);
  if (b === undefined) buffers.set(name, (b = [new Float64Array(64), new Float64Array(64)]));
  return b;
}

/**
 * The model's logits for feature combination number `combination`, which `fv` holds. Logits are linear in the
 * features, so the request's shared features are summed once per model and each imp adds only
 * its own attr rows: the same numbers as scoring each imp's whole vector, in the same order.
 */
function scoreImp(
  scores: Map<string, Scored | null>,
  lookup: ModelLookup,
  fallbacks: Set<string>,
  name: string,
  combination: number,
): Scored | null {
  let s = scores.get(name);
  if (s === undefined) {
    const model = lookup(name);
    s = null;
    if (model === null) fallbacks.add(`${name}=missing`);
    else {
      const [sums, logits] = buffersOf(name);
      sums.fill(0, 0, model.variants.length);
      addRows(model, shared.fv, 0, sums);
      s = { model, sums, logits, combination: -1 };
    }
    scores.set(name, s);
  }
  if (s !== null && s.combination !== combination) {
    s.logits.set(s.sums.subarray(0, s.model.variants.length));
    addRows(s.model, fv, shared.fv.length, s.logits);
    finishScores(s.model, s.logits, s.logits);
    s.combination = combination;
  }
  return s;
}

function variantIndex(m: LinearModel, campaign: string): number {
  return m.variantIndex.get(campaign) ?? m.variantIndex.get('*') ?? 0;
}

export function runBidder(input: BidderInput): BidderOutput {
  const req = input.request;
  const skipped: Record<string, number> = {};
  const skip = (why: string) => {
    skipped[why] = (skipped[why] ?? 0) + 1;
  };
  const fallbacks = new Set<string>();
  const cur = responseCurrency(input.rates, req.cur);
  if (cur === null) {
    skip('currency');
    return { response: null, decisions: [], skipped, fallbacks: [], currency: input.rates.base };
  }
  const facts = input.userKey === undefined ? requestFacts(req, input.now) : requestFacts(req, input.now, input.userKey);
  const live: Live[] = [];
  for (const c of input.campaigns) {
    const why = requestIneligible(c, req, facts, input.now);
    if (why) skip(why);
    else {
      const state = input.state(c.id);
      live.push({ c, state, pacing: pacingRate(c, state.spend, input.now), modifier: modifierOf(c, facts.base) });
    }
  }
  const bids: { decision: BidDecision; bid: Bid; seat: string }[] = [];
  if (live.length > 0) {
    requestFeatures(facts, shared);
    const run: RequestRun = {
      input,
      facts,
      live,
      firstPrice: (req.at ?? 2) === 1,
      skip,
      fallbacks,
      scores: new Map(),
      curve: curveFor(input.shading, facts.publisher),
      bidsSoFar: new Map(),
      combination: 0,
    };
    const notices: NoticeContext = {
      base: input.noticeBase,
      requestQuery: noticeRequestQuery(facts, cur, input.now, input.exchange),
      seconds: Math.floor(input.now / 1000),
      exchange: input.exchange,
      signer: input.signer,
    };
    for (let i = 0; i < req.imp.length; i++) {
      const imp = req.imp[i]!;
      const best = bestForImp(run, imp);
      if (best === null) continue;
      const price = convert(input.rates, best.priceBase, CAMPAIGN_CURRENCY, cur);
      if (price === null) continue;
      const decisionId = input.newId();
      if (best.campaign.frequencyCap !== undefined) run.bidsSoFar.set(best.campaign.id, (run.bidsSoFar.get(best.campaign.id) ?? 0) + 1);
      // rounded up to 1/10,000: rounding down could put a bid at the floor a hair under it
      const rounded = Math.ceil(price * 10_000 - 1e-9) / 10_000;
      const decision: BidDecision = {
        decisionId,
        impid: imp.id,
        campaign: best.campaign.id,
        creative: best.creative.id,
        value: best.value,
        price: rounded,
        ctr: best.ctr,
        cvr: best.cvr,
        source: best.source,
        shaded: best.shaded,
        dealid: best.dealid,
        model: best.model && { name: best.model.name, version: best.model.version },
        propensity: best.rate,
        context: impFeatureInput(facts, imp, best.creative.media, creativeSize(best.creative), best.dealid ?? 'open'),
        noticeQuery: '',
      };
      bids.push({ decision, bid: toBid(notices, req, imp, decision, best), seat: best.campaign.seat ?? DEFAULT_SEAT });
    }
  }
  if (bids.length === 0) return { response: null, decisions: [], skipped, fallbacks: [...fallbacks], currency: cur };
  const seats = new Map<string, SeatBid>();
  for (const b of bids) {
    let s = seats.get(b.seat);
    if (!s) seats.set(b.seat, (s = { seat: b.seat, bid: [] }));
    s.bid.push(b.bid);
  }
  return {
    response: { id: req.id, bidid: bids[0]!.decision.decisionId, cur, seatbid: [...seats.values()] },
    decisions: bids.map((b) => b.decision),
    skipped,
    fallbacks: [...fallbacks],
    currency: cur,
  };
}

/** The imp's floor in the campaign currency; null when its currency is unknown. */
function floorOf(rates: RatesTable, amount: number | undefined, cur: string | undefined): number | null {
  if (!amount) return 0;
  return convert(rates, amount, cur || 'USD', CAMPAIGN_CURRENCY);
}

/** A campaign that passed request-level targeting, with what is the same for every imp of the request. */
interface Live {
  readonly c: Campaign;
  readonly state: CampaignState;
  /** the share of requests to bid on now (pacing) */
  readonly pacing: number;
  /** the bid modifiers for this request's geo, device, daypart and segments */
  readonly modifier: number;
}

/** What every imp of one request shares while it is priced. */
interface RequestRun {
  readonly input: BidderInput;
  readonly facts: RequestFacts;
  readonly live: readonly Live[];
  readonly firstPrice: boolean;
  readonly skip: (why: string) => void;
  readonly fallbacks: Set<string>;
  readonly scores: Map<string, Scored | null>;
  /** the publisher's win-rate curve (null: no shading model) */
  readonly curve: WinCurve | null;
  /** bids made so far in this request, by campaign: they count toward frequency caps too */
  readonly bidsSoFar: Map<string, number>;
  /** counts the imp feature combinations scored so far, naming the one `fv` holds */
  combination: number;
}

function bestForImp(run: RequestRun, imp: Imp): Candidate | null {
  const { input, facts, skip, fallbacks, scores, firstPrice } = run;
  const openFloor = floorOf(input.rates, imp.bidfloor, imp.bidfloorcur);
  if (openFloor === null) {
    skip('floorCurrency');
    return null;
  }
  const sizes = impSizes(imp);
  const deals = imp.pmp?.deals ?? [];
  const privateOnly = imp.pmp?.private_auction === 1;
  // Each candidate is priced on the features of what it would bid with (its creative's media
  // and size, its deal or the open auction), which are what its decision record logs. `fv`
  // holds one such combination at a time, and the models' logits are for the one it holds.
  let fvMedia: Media | null = null;
  let fvSize = '';
  let fvDeal = '';
  const score = (name: string | undefined, media: Media, size: string, deal: string) => {
    if (name === undefined) return null;
    if (media !== fvMedia || size !== fvSize || deal !== fvDeal) {
      impFeatures(shared, imp, media, size, deal, fv);
      fvMedia = media;
      fvSize = size;
      fvDeal = deal;
      run.combination++;
    }
    return scoreImp(scores, input.models, fallbacks, name, run.combination);
  };
  let best: Candidate | null = null;
  let bestAt = -1;
  contenders.length = 0;
  for (const { c, state: st, pacing: rate, modifier } of run.live) {
    const deal = dealFor(c, deals);
    if (deal === null && (privateOnly || c.targeting.dealsOnly)) {
      skip(privateOnly ? 'privateAuction' : 'dealsOnly');
      continue;
    }
    // a deal's floor currency defaults to USD, not to the imp's (§3.2.12)
    const floor = deal ? floorOf(input.rates, deal.bidfloor, deal.bidfloorcur) : openFloor;
    if (floor === null) {
      skip('floorCurrency');
      continue;
    }
    // a fixed-price deal's price is its floor (§3.2.12): without one there is no price to pay
    if (deal !== null && deal.at === 3 && !(floor > 0)) {
      skip('dealNoPrice');
      continue;
    }
    const creative = pickCreative(c, imp, input.request.bcat, sizes);
    if (typeof creative === 'string') {
      skip(creative);
      continue;
    }
    // A cap is a promise to users; one we cannot recognize cannot be counted, so no bid.
    if (c.frequencyCap !== undefined && facts.userKey === null) {
      skip('frequencyCapNoUser');
      continue;
    }
    // a cap of 1 means one ad, however many of the page's imps this request offers
    if (!underFrequencyCap(c, st.seen + (run.bidsSoFar.get(c.id) ?? 0))) {
      skip('frequencyCap');
      continue;
    }
    if (rate <= 0) {
      skip('budget');
      continue;
    }
    // predicted rates: models when present, else the campaign's defaults, else no bid
    let ctr = 1;
    let cvr = 1;
    let source: 'model' | 'default' = 'model';
    let model: LinearModel | null = null;
    if (c.bid.goal !== 'cpm') {
      const m = score(c.bid.ctrModel, creative.media, creativeSize(creative), deal?.id ?? 'open');
      if (m === null && c.bid.defaultCtr === undefined) {
        skip('noCtrModel');
        continue;
      }
      ctr = predictRate(m, c.bid.defaultCtr!, c.id);
      if (m === null) source = 'default';
      else model = m.model;
      if (c.bid.goal === 'cpa') {
        const q = score(c.bid.cvrModel, creative.media, creativeSize(creative), deal?.id ?? 'open');
        if (q === null && c.bid.defaultCvr === undefined) {
          skip('noCvrModel');
          continue;
        }
        cvr = predictRate(q, c.bid.defaultCvr!, c.id);
        if (q === null) source = 'default';
      }
    }
    const value = impressionValue(c, { ctr, cvr }, modifier);
    if (value === null) {
      skip('belowMin');
      continue;
    }
    if (value < floor) {
      skip('floor');
      continue;
    }
    // Pacing: the campaign bids on a share `rate` of what it could win. Every contender's
    // draw is remembered, for the propensity of whichever wins.
    contenders.push(value, rate);
    if (input.uniform() >= rate) {
      skip('pacing');
      continue;
    }
    // Campaigns compete on value; only the winner is priced (shading is monotone in value).
    if (best === null || value > best.value) {
      bestAt = contenders.length / 2 - 1;
      best = {
        campaign: c,
        creative,
        value,
        priceBase: value,
        ctr,
        cvr,
        source,
        shaded: false,
        dealid: deal?.id ?? null,
        model,
        floor,
        auction: deal?.at ?? (firstPrice ? 1 : 2),
        rate,
      };
    }
  }
  if (best === null) return null;
  const rate = winProbability(bestAt);
  // A fixed-price deal (at=3) pays its floor; first price is shaded; second price bids value.
  if (best.auction === 3) return { ...best, rate, priceBase: best.floor };
  if (best.auction === 1) {
    const curve = run.curve;
    if (curve === null) fallbacks.add('shading=missing');
    else {
      const s = shadeBid(best.value, curve, best.floor);
      if (s !== null) {
        const priceBase = Math.max(s, best.floor);
        return { ...best, rate, priceBase, shaded: priceBase < best.value };
      }
    }
  }
  return { ...best, rate };
}

/**
 * The campaign's rate from the model's logit for it, else the campaign's default. (A model
 * whose weights give NaN yields NaN, and `impressionValue` then refuses the bid as `belowMin`.)
 */
function predictRate(s: Scored | null, fallback: number, campaign: string): number {
  if (s !== null) return sigmoid(s.logits[variantIndex(s.model, campaign)]!);
  return fallback;
}
