/**
 * One imp's auction among a request's campaigns (bidder.ts runs one per imp): each campaign's
 * offer (deal, floor, creative, caps, budget, and its price from pricing.ts on the features of
 * what it would bid with), the pacing draws, the winner on value, and the winner's price under
 * the auction's rules (second price: its value; first price: shaded; a fixed-price deal: its
 * floor). Models are scored incrementally: the request's features once per model, each imp's
 * own on top.
 */
import type { Imp } from 'iab-openrtb/v26';
import { traceImp, type BidTrace, type CampaignTrace, type ImpTrace } from './bid-trace.ts';
import { createFeatureVector, type FeatureVector } from '../features.ts';
import { addRows, finishScores, sigmoid, type LinearModel } from '../linear-model.ts';
import { createRequestFeatures, impFeatures, impSizes, type Media, type RequestFacts, type RequestFeatures } from './bid-features.ts';
import { CAMPAIGN_CURRENCY, creativeSize, dealFor, pickCreative, type Campaign, type Creative } from './campaign.ts';
import { convert, type RatesTable } from './currency.ts';
import { underFrequencyCap, type SpendState } from './pacing.ts';
import { campaignVariant, priceCampaign, type Predict } from './pricing.ts';
import { shadeBid, type WinCurve } from './win-curve.ts';

export interface CampaignState {
  readonly spend: SpendState | null;
  /** impressions this request's user has seen from the campaign within its cap window */
  readonly seen: number;
}

/** A linear model by name: the model, or null when it could not be loaded (with why). */
export type ModelLookup = (name: string) => LinearModel | null;

/**
 * The buffers a run computes in, reused across runs: one per isolate, since allocating them per
 * request costs more than the bid (bidder.ts says why sharing them is safe).
 */
export interface BidderScratch {
  /** per imp: value and pacing rate of each campaign that could have bid, flat pairs */
  readonly contenders: number[];
  /** the request's features, shared by its imps */
  readonly shared: RequestFeatures;
  /** one imp's feature combination (media, size, deal) */
  readonly fv: FeatureVector;
  /** two buffers per model name (MAX_VARIANTS wide): the request's sums and the current imp's logits */
  readonly buffers: Map<string, [Float64Array, Float64Array]>;
}

export function createBidderScratch(): BidderScratch {
  return { contenders: [], shared: createRequestFeatures(), fv: createFeatureVector(), buffers: new Map() };
}

/** The campaign an imp's auction picked, priced. */
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

/**
 * The winner's propensity: its own rate times (1 − rate) for each contender that would have
 * won had its draw passed: a higher value, or an equal one earlier in the list (the first of
 * equals wins). `at` is the winner's index among the contenders.
 */
function winProbability(contenders: readonly number[], at: number): number {
  const value = contenders[2 * at]!;
  let p = contenders[2 * at + 1]!;
  for (let j = 0; j < contenders.length / 2; j++) {
    const v = contenders[2 * j]!;
    if (v > value || (v === value && j < at)) p *= 1 - contenders[2 * j + 1]!;
  }
  return p;
}

/** A model's scores within one request: raw sums over the request's features, and the current imp's logits. */
interface Scored {
  readonly model: LinearModel;
  readonly sums: Float64Array;
  readonly logits: Float64Array;
  /** the feature combination (`RequestRun.combination`) whose logits `logits` holds (-1: none yet) */
  combination: number;
}

function buffersOf(scratch: BidderScratch, name: string): [Float64Array, Float64Array] {
  let b = scratch.buffers.get(name);
  if (b === undefined) scratch.buffers.set(name, (b = [new Float64Array(64), new Float64Array(64)]));
  return b;
}

/**
 * The model's logits for feature combination number `combination`, which `scratch.fv` holds.
 * Logits are linear in the features, so the request's shared features are summed once per
 * model and each imp adds only its own attr rows: the same numbers as scoring each imp's whole
 * vector, in the same order.
 */
function scoreImp(run: RequestRun, name: string, combination: number): Scored | null {
  const { scores, scratch } = run;
  let s = scores.get(name);
  if (s === undefined) {
    const model = run.models(name);
    s = null;
    if (model === null) run.fallbacks.add(`${name}=missing`);
    else {
      const [sums, logits] = buffersOf(scratch, name);
      sums.fill(0, 0, model.variants.length);
      addRows(model, scratch.shared.fv, 0, sums);
      s = { model, sums, logits, combination: -1 };
    }
    scores.set(name, s);
  }
  if (s !== null && s.combination !== combination) {
    s.logits.set(s.sums.subarray(0, s.model.variants.length));
    addRows(s.model, scratch.fv, scratch.shared.fv.length, s.logits);
    finishScores(s.model, s.logits, s.logits);
    s.combination = combination;
  }
  return s;
}

/** The imp's floor in the campaign currency; null when its currency is unknown. */
export function floorOf(rates: RatesTable, amount: number | undefined, cur: string | undefined): number | null {
  if (!amount) return 0;
  return convert(rates, amount, cur || 'USD', CAMPAIGN_CURRENCY);
}

/** A campaign that passed request-level targeting, with what is the same for every imp of the request. */
export interface Live {
  readonly c: Campaign;
  readonly state: CampaignState;
  /** the share of requests to bid on now (pacing) */
  readonly pacing: number;
  /** the bid modifiers for this request's geo, device, daypart and segments */
  readonly modifier: number;
  /** what it may still spend (pacing.ts `budgetLeft`: bids in flight counted) */
  readonly left: number;
}

/** What every imp of one request shares while it is priced. */
export interface RequestRun {
  readonly rates: RatesTable;
  /** the request's blocked categories */
  readonly bcat: readonly string[] | undefined;
  readonly models: ModelLookup;
  /** uniform draw in [0, 1) for pacing */
  readonly uniform: () => number;
  readonly scratch: BidderScratch;
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
  /** what the bids so far in this request may cost, by campaign (campaign currency): they count against its budget too */
  readonly committed: Map<string, number>;
  /** the request's explanation, written as it is decided; null unless asked for (bid-trace.ts) */
  readonly trace: BidTrace | null;
  /** counts the imp feature combinations scored so far, naming the one `scratch.fv` holds */
  combination: number;
  /** the imp being priced */
  at: ImpRun | null;
}

/** What one imp offers, read once for all its contenders. */
interface ImpRun {
  readonly imp: Imp;
  readonly openFloor: number;
  readonly sizes: ReturnType<typeof impSizes>;
  readonly deals: NonNullable<NonNullable<Imp['pmp']>['deals']>;
  readonly privateOnly: boolean;
  /** the feature combination `scratch.fv` holds */
  fvMedia: Media | null;
  fvSize: string;
  fvDeal: string;
  /** the candidate being priced: its campaign and the combination it would bid with */
  campaign: string;
  media: Media;
  size: string;
  deal: string;
}

/**
 * The run's `Predict` (pricing.ts): a model's prediction for the campaign `run.at` is pricing,
 * on the features of what it would bid with (its creative's media and size, its deal or the
 * open auction), which are what its decision record logs. `scratch.fv` holds one such
 * combination at a time, and the models' logits are for the one it holds. One function per
 * request, reading what `offerOf` sets in `run.at`, so pricing a candidate allocates no closure.
 */
export function predictorOf(run: RequestRun): Predict {
  return (name) => {
    const at = run.at!;
    if (name === undefined) return null;
    if (at.media !== at.fvMedia || at.size !== at.fvSize || at.deal !== at.fvDeal) {
      impFeatures(run.scratch.shared, at.imp, at.media, at.size, at.deal, run.scratch.fv);
      at.fvMedia = at.media;
      at.fvSize = at.size;
      at.fvDeal = at.deal;
      run.combination++;
    }
    const s = scoreImp(run, name, run.combination);
    return s === null ? null : { rate: sigmoid(s.logits[campaignVariant(s.model, at.campaign)]!), model: s.model };
  };
}

/** A campaign's offer for one imp, before pacing and the auction price. */
type Offer = Omit<Candidate, 'rate' | 'priceBase' | 'shaded'>;

/**
 * The campaign's offer for this imp before pacing: its deal, floor, creative and price, or why
 * it has none (a skip reason). Checks in order: deals, floor currency, fixed-price deals,
 * creative fit, frequency caps, budget, price, floor, what is left of the budget. A debug
 * request's `note` gets what was found on the way.
 */
function offerOf(run: RequestRun, at: ImpRun, live: Live, predict: Predict, note: CampaignTrace | null): Offer | string {
  const { c, state: st, pacing: rate, modifier } = live;
  const deal = dealFor(c, at.deals);
  if (deal === null && (at.privateOnly || c.targeting.dealsOnly)) return at.privateOnly ? 'privateAuction' : 'dealsOnly';
  // a deal's floor currency defaults to USD, not to the imp's (§3.2.12)
  const floor = deal ? floorOf(run.rates, deal.bidfloor, deal.bidfloorcur) : at.openFloor;
  if (note !== null) {
    if (deal !== null) note.deal = deal.id;
    if (floor !== null) note.floor = floor;
    note.budgetLeft = live.left - (run.committed.get(c.id) ?? 0);
  }
  if (floor === null) return 'floorCurrency';
  // a fixed-price deal's price is its floor (§3.2.12): without one there is no price to pay
  if (deal !== null && deal.at === 3 && !(floor > 0)) return 'dealNoPrice';
  const creative = pickCreative(c, at.imp, run.bcat, at.sizes);
  if (typeof creative === 'string') return creative;
  if (note !== null) note.creative = creative.id;
  // A cap is a promise to users; one we cannot recognize cannot be counted, so no bid.
  if (c.frequencyCap !== undefined && run.facts.userKey === null) return 'frequencyCapNoUser';
  // a cap of 1 means one ad, however many of the page's imps this request offers
  if (!underFrequencyCap(c, st.seen + (run.bidsSoFar.get(c.id) ?? 0))) return 'frequencyCap';
  if (rate <= 0) return 'budget';
  // predicted rates: models when present, else the campaign's defaults, else no bid
  at.campaign = c.id;
  at.media = creative.media;
  at.size = creativeSize(creative);
  at.deal = deal?.id ?? 'open';
  const price = priceCampaign(c, predict, modifier);
  if (note !== null) {
    if (price.ctr !== null) note.pctr = price.ctr.rate;
    if (price.cvr !== null) note.pcvr = price.cvr.rate;
    if (c.bid.goal !== 'cpm') note.source = price.source;
    note.modifier = modifier;
    if (price.value !== null) note.value = price.value;
  }
  if (price.skip !== null) return price.skip;
  if (price.value! < floor) return 'floor';
  // The price bid is at most the value (shading lowers it, a fixed deal price is a floor under
  // it), so a value that fits in what is left always pays for the bid if it wins: within this
  // isolate, spend and bids in flight never pass the budget (campaign-state.ts says what other
  // isolates add).
  // (a billionth of a unit of slack: sums of bids carry rounding error, and the last bid that fits must)
  if (price.value! / 1000 > live.left - (run.committed.get(c.id) ?? 0) + 1e-9) return 'budget';
  return {
    campaign: c,
    creative,
    value: price.value!,
    ctr: price.ctr?.rate ?? 1,
    cvr: price.cvr?.rate ?? 1,
    source: price.source,
    dealid: deal?.id ?? null,
    model: price.ctr?.model ?? null,
    floor,
    auction: deal?.at ?? (run.firstPrice ? 1 : 2),
  };
}

export function bestForImp(run: RequestRun, imp: Imp, predict: Predict): Candidate | null {
  const { skip } = run;
  const openFloor = floorOf(run.rates, imp.bidfloor, imp.bidfloorcur);
  const t = run.trace === null ? null : traceImp(run.trace, imp.id, imp.bidfloor, imp.bidfloorcur, openFloor);
  if (openFloor === null) {
    skip('floorCurrency');
    if (t !== null) for (const live of run.live) t.campaigns.push({ campaign: live.c.id, result: 'floorCurrency' });
    return null;
  }
  const at: ImpRun = {
    imp,
    openFloor,
    sizes: impSizes(imp),
    deals: imp.pmp?.deals ?? [],
    privateOnly: imp.pmp?.private_auction === 1,
    fvMedia: null,
    fvSize: '',
    fvDeal: '',
    campaign: '',
    media: 'banner',
    size: '',
    deal: '',
  };
  run.at = at;
  const contenders = run.scratch.contenders;
  contenders.length = 0;
  let best: Offer | null = null;
  let bestAt = -1;
  let bestNote: CampaignTrace | null = null;
  for (const live of run.live) {
    const note: CampaignTrace | null = t === null ? null : { campaign: live.c.id, result: '' };
    const offer = offerOf(run, at, live, predict, note);
    if (note !== null) t!.campaigns.push(note);
    if (typeof offer === 'string') {
      skip(offer);
      if (note !== null) note.result = offer;
      continue;
    }
    // Pacing: the campaign bids on a share `rate` of what it could win. Every contender's
    // draw is remembered, for the propensity of whichever wins.
    contenders.push(offer.value, live.pacing);
    if (note !== null) note.pacing = live.pacing;
    if (run.uniform() >= live.pacing) {
      skip('pacing');
      if (note !== null) note.result = 'pacing';
      continue;
    }
    // Campaigns compete on value; only the winner is priced (shading is monotone in value).
    if (best === null || offer.value > best.value) {
      bestAt = contenders.length / 2 - 1;
      best = offer;
      if (note !== null) {
        if (bestNote !== null) bestNote.result = 'outbid';
        note.result = 'bid';
        bestNote = note;
      }
    } else if (note !== null) note.result = 'outbid';
  }
  if (best === null) return null;
  const won = priceWinner(run, { ...best, priceBase: best.value, shaded: false, rate: winProbability(contenders, bestAt) });
  if (t !== null) t.price = priceTrace(run, won);
  return won;
}

/** The winner's price: a fixed-price deal (at=3) pays its floor; first price is shaded; second price bids value. */
function priceWinner(run: RequestRun, won: Candidate): Candidate {
  if (won.auction === 3) return { ...won, priceBase: won.floor };
  if (won.auction === 1) {
    if (run.curve === null) run.fallbacks.add('shading=missing');
    else {
      const s = shadeBid(won.value, run.curve, won.floor);
      if (s !== null) {
        const priceBase = Math.max(s, won.floor);
        return { ...won, priceBase, shaded: priceBase < won.value };
      }
    }
  }
  return won;
}

function priceTrace(run: RequestRun, won: Candidate): ImpTrace['price'] {
  const auction = won.auction === 3 ? 'fixed' : won.auction === 1 ? 'first' : 'second';
  return {
    campaign: won.campaign.id,
    auction,
    value: won.value,
    floor: won.floor,
    ...(auction === 'first' ? { curve: run.curve && { a: run.curve.a, k: run.curve.k } } : {}),
    shaded: won.shaded,
    price: won.priceBase,
  };
}
