/**
 * The bidder: a validated BidRequest, the campaigns, models and state in; a BidResponse (or
 * none) and one decision per bid out. The worker supplies models, spend and frequency state,
 * the random draws and ids, so the same inputs always give the same bids. It keeps no state of
 * its own: the buffers it computes in (`BidderScratch`) are its caller's, made once per isolate
 * (`createBidderScratch`) because allocating them per request costs more than the bid; a run
 * never yields, so two runs never use them at once.
 *
 * Per imp: floor (converted to the campaign currency), deals, then for each campaign that
 * passes request-level targeting: creative fit, bcat, frequency cap, pacing (its share is
 * computed once per request, the draw made per imp), the price (pricing.ts `priceCampaign`:
 * pCTR/pCVR from the shared features, request features scored once and each imp adding its
 * own, and the value they give), and the price bid: truthful under second price (`at=2`),
 * shaded from the win-rate curve under first price (`at=1`). The best price per imp is bid.
 */
import type { Bid, BidRequest, BidResponse, SeatBid } from 'iab-openrtb/v26';
import type { FeatureInput } from '../features.ts';
import { impFeatureInput, requestFacts, requestFeatures } from './bid-features.ts';
import { createTrace, traceImp, type BidTrace } from './bid-trace.ts';
import { noticeQuery, noticeRequestQuery, toBid, type NoticeContext, type PricedBid } from './bid-response.ts';
import { CAMPAIGN_CURRENCY, creativeSize, DEFAULT_SEAT, requestIneligible, type Campaign } from './campaign.ts';
import { convert, responseCurrency, type RatesTable } from './currency.ts';
import { placementBase, placementKey, roundPrice, type FloorSignal, type PlacementPaid } from './floors-feedback.ts';
import {
  bestForImp,
  floorOf,
  predictorOf,
  type BidderScratch,
  type CampaignState,
  type Live,
  type ModelLookup,
  type RequestRun,
} from './imp-auction.ts';
import type { NoticeSigner } from './notice-signature.ts';
import { budgetLeft, pacingRate } from './pacing.ts';
import { modifierOf } from './pricing.ts';
import { curveFor, type ShadingModel } from './shading-model.ts';

export type { BidderScratch, CampaignState, ModelLookup } from './imp-auction.ts';
export { createBidderScratch } from './imp-auction.ts';

export interface BidderInput {
  readonly request: BidRequest;
  /** `bidUserKey(request)`, when the caller computed it already (the Worker does, once per request) */
  readonly userKey?: string | null;
  /**
   * the attune site whose host the request's `site` names (docs/sites.md), resolved by the
   * Worker from its cache; null or absent: none (`targeting.sites` campaigns skip it)
   */
  readonly site?: string | null;
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
  readonly scratch: BidderScratch;
  /** write the request's explanation (`BidderOutput.trace`; bid-trace.ts) */
  readonly explain?: boolean;
  /**
   * a test request (OpenRTB `test: 1`): its notice and click URLs carry `test=1`, signed, and
   * book nothing when they come back
   */
  readonly test?: boolean;
  /** what we last paid on a placement (floors-feedback.ts), for the response's `ext.floors` */
  readonly lastPaid?: (placement: string) => PlacementPaid | undefined;
}

/** One bid, as the decision log and the notice URLs need it. */
export interface BidDecision extends PricedBid {
  readonly impid: string;
  /** the campaign's value (CPM, campaign currency); `price` is the price bid (response currency) */
  readonly value: number;
  /** the price bid in the campaign currency (CPM): what the bid may cost at most, reserved against its budget */
  readonly basePrice: number;
  /** the placement's key (floors-feedback.ts), also in the notice URLs */
  readonly placement: string;
  /** the pCTR model used (null: fixed CPM or default rate) */
  readonly model: { readonly name: string; readonly version: string } | null;
  /** probability this bid was made: the pacing rate it passed (1 when unthrottled) */
  readonly propensity: number;
  readonly context: FeatureInput;
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
  /** the explanation, when `explain` asked for one */
  readonly trace: BidTrace | null;
}

export function runBidder(input: BidderInput): BidderOutput {
  const req = input.request;
  const skipped: Record<string, number> = {};
  const skip = (why: string) => {
    skipped[why] = (skipped[why] ?? 0) + 1;
  };
  const fallbacks = new Set<string>();
  const trace = input.explain === true ? createTrace() : null;
  const cur = responseCurrency(input.rates, req.cur);
  if (cur === null) {
    skip('currency');
    return { response: null, decisions: [], skipped, fallbacks: [], currency: input.rates.base, trace };
  }
  const facts = requestFacts(req, input.now, input.userKey, input.site ?? null);
  const live: Live[] = [];
  for (const c of input.campaigns) {
    const why = requestIneligible(c, req, facts, input.now);
    if (why) {
      skip(why);
      if (trace !== null) trace.request.push({ campaign: c.id, result: why });
    } else {
      const state = input.state(c.id);
      live.push({
        c,
        state,
        pacing: pacingRate(c, state.spend, input.now),
        modifier: modifierOf(c, facts.base),
        left: budgetLeft(c, state.spend, input.now),
      });
    }
  }
  const floors: FloorSignal[] = [];
  const bids: { decision: BidDecision; bid: Bid; seat: string }[] = [];
  if (live.length > 0) {
    requestFeatures(facts, input.scratch.shared);
    const run: RequestRun = {
      rates: input.rates,
      bcat: req.bcat,
      models: input.models,
      uniform: input.uniform,
      scratch: input.scratch,
      facts,
      live,
      firstPrice: (req.at ?? 2) === 1,
      skip,
      fallbacks,
      scores: new Map(),
      curve: curveFor(input.shading, facts.publisher),
      bidsSoFar: new Map(),
      committed: new Map(),
      trace,
      combination: 0,
      at: null,
    };
    const predict = predictorOf(run);
    const notices: NoticeContext = {
      base: input.noticeBase,
      requestQuery: noticeRequestQuery(facts, cur, input.now, input.exchange, input.test === true),
      seconds: Math.floor(input.now / 1000),
      exchange: input.exchange,
      signer: input.signer,
      test: input.test,
    };
    let placeBase: readonly [number, number] | undefined;
    for (let i = 0; i < req.imp.length; i++) {
      const imp = req.imp[i]!;
      const best = bestForImp(run, imp, predict);
      if (best === null) continue;
      const price = convert(input.rates, best.priceBase, CAMPAIGN_CURRENCY, cur);
      if (price === null) continue;
      const decisionId = input.newId();
      if (best.campaign.frequencyCap !== undefined) run.bidsSoFar.set(best.campaign.id, (run.bidsSoFar.get(best.campaign.id) ?? 0) + 1);
      run.committed.set(best.campaign.id, (run.committed.get(best.campaign.id) ?? 0) + best.priceBase / 1000);
      // rounded up to 1/10,000: rounding down could put a bid at the floor a hair under it
      const rounded = Math.ceil(price * 10_000 - 1e-9) / 10_000;
      const size = creativeSize(best.creative);
      placeBase ??= placementBase(input.exchange, facts, req.site?.id ?? req.app?.id);
      const placement = placementKey(placeBase, imp, best.creative.media, size);
      const priced = { decisionId, campaign: best.campaign.id, creative: best.creative.id, price: rounded, placement };
      if (trace !== null) Object.assign(trace.imps.at(-1)!.price!, { bid: rounded, cur });
      floors.push(floorSignal(input, imp, best.floor, best.dealid, cur, placement));
      const decision: BidDecision = {
        ...priced,
        impid: imp.id,
        value: best.value,
        basePrice: best.priceBase,
        ctr: best.ctr,
        cvr: best.cvr,
        source: best.source,
        shaded: best.shaded,
        dealid: best.dealid,
        model: best.model && { name: best.model.name, version: best.model.version },
        propensity: best.rate,
        context: impFeatureInput(facts, imp, best.creative.media, size, best.dealid ?? 'open'),
        noticeQuery: noticeQuery(notices, priced, imp.id),
      };
      bids.push({
        decision,
        bid: toBid(notices, req, imp, decision, best.campaign, best.creative),
        seat: best.campaign.seat ?? DEFAULT_SEAT,
      });
    }
  }
  if (trace !== null && live.length === 0)
    for (const imp of req.imp) traceImp(trace, imp.id, imp.bidfloor, imp.bidfloorcur, floorOf(input.rates, imp.bidfloor, imp.bidfloorcur));
  if (bids.length === 0) return { response: null, decisions: [], skipped, fallbacks: [...fallbacks], currency: cur, trace };
  const seats = new Map<string, SeatBid>();
  for (const b of bids) {
    let s = seats.get(b.seat);
    if (!s) seats.set(b.seat, (s = { seat: b.seat, bid: [] }));
    s.bid.push(b.bid);
  }
  return {
    response: { id: req.id, bidid: bids[0]!.decision.decisionId, cur, seatbid: [...seats.values()], ext: { floors } },
    decisions: bids.map((b) => b.decision),
    skipped,
    fallbacks: [...fallbacks],
    currency: cur,
    trace,
  };
}

/** The floors feedback of an imp we bid on (floors-feedback.ts); `floor` is in the campaign currency. */
function floorSignal(
  input: BidderInput,
  imp: BidRequest['imp'][number],
  floor: number,
  dealid: string | null,
  cur: string,
  placement: string,
): FloorSignal {
  const usd = cur === CAMPAIGN_CURRENCY;
  const s: FloorSignal = {
    impid: imp.id,
    bidfloor: imp.bidfloor ?? 0,
    bidfloorcur: imp.bidfloorcur || 'USD',
    floor: roundPrice(usd ? floor : (convert(input.rates, floor, CAMPAIGN_CURRENCY, cur) ?? floor)),
  };
  if (dealid !== null) s.dealid = dealid;
  const paid = input.lastPaid?.(placement);
  if (paid !== undefined)
    s.lastwon = {
      price: roundPrice(usd ? paid.price : (convert(input.rates, paid.price, CAMPAIGN_CURRENCY, cur) ?? paid.price)),
      at: paid.at,
    };
  return s;
}

/** Whether the request has a first-price auction to shade for: the open auction's, or a deal's. */
export function needsShading(req: BidRequest): boolean {
  return (req.at ?? 2) === 1 || req.imp.some((i) => i.pmp?.deals?.some((d) => d.at === 1) === true);
}

/** The rate models the campaigns price with (`ModelLookup` names), each once. */
export function rateModels(campaigns: readonly Campaign[]): Set<string> {
  const names = new Set<string>();
  for (const c of campaigns) {
    if (c.bid.ctrModel) names.add(c.bid.ctrModel);
    if (c.bid.cvrModel) names.add(c.bid.cvrModel);
  }
  return names;
}
