/**
 * An impression's value to a campaign, in CPM of the campaign currency:
 *   cpm goal: the campaign's CPM;  cpc: value × pCTR × 1000;  cpa: value × pCTR × pCVR × 1000
 * times the bid modifiers (geo, device, daypart, segment), then capped at `maxCpm`. Values
 * under `minCpm` are not worth bidding (null): a campaign would rather sit out than bid dust.
 *
 * `priceCampaign` is the one pricing path: the bidder prices each candidate with it and
 * `/v1/bid-adjust` reports what it finds, so the two cannot disagree.
 */
import { DAYPARTS, daypartOf, type FeatureInput } from '../features.ts';
import type { LinearModel } from '../linear-model.ts';
import type { Campaign } from './campaign.ts';

export interface Rates {
  readonly ctr: number;
  readonly cvr: number;
}

export function modifierOf(c: Campaign, ctx: Pick<FeatureInput, 'country' | 'device' | 'hour' | 'segments'>): number {
  const m = c.modifiers;
  if (!m) return 1;
  let x = 1;
  if (m.geo) x *= m.geo[ctx.country] ?? 1;
  if (m.device) x *= m.device[ctx.device] ?? 1;
  if (m.daypart) x *= m.daypart[DAYPARTS[daypartOf(ctx.hour)]!] ?? 1;
  if (m.segment) for (const s of ctx.segments) x *= m.segment[s] ?? 1;
  return x;
}

/** The campaign's true value of this impression (CPM), or null when not worth a bid. */
export function impressionValue(c: Campaign, rates: Rates, modifier: number): number | null {
  const b = c.bid;
  const base = b.goal === 'cpm' ? b.value : b.goal === 'cpc' ? b.value * rates.ctr * 1000 : b.value * rates.ctr * rates.cvr * 1000;
  const v = Math.min(base * modifier, b.maxCpm);
  return Number.isFinite(v) && v >= b.minCpm && v > 0 ? v : null;
}

export const MAX_MULTIPLIER = 10;

/**
 * For ad servers that run their own auction (`/v1/bid-adjust`): how much more (or less) this
 * impression is worth than the campaign's average one, i.e. predicted rates over baseline
 * rates, times the bid modifiers, clamped to [0, MAX_MULTIPLIER].
 */
export function bidMultiplier(c: Campaign, rates: Rates, baseline: Rates, modifier: number): number {
  const g = c.bid.goal;
  const predicted = g === 'cpm' ? 1 : g === 'cpc' ? rates.ctr : rates.ctr * rates.cvr;
  const base = g === 'cpm' ? 1 : g === 'cpc' ? baseline.ctr : baseline.ctr * baseline.cvr;
  // Worth nothing is 0, whatever the baseline (a zero baseline would make it 0/0); worth
  // something over a zero baseline is as much more as we allow.
  if (!(predicted > 0) || !(modifier > 0)) return 0;
  const m = (predicted / base) * modifier;
  return Number.isNaN(m) ? 1 : Math.min(m, MAX_MULTIPLIER);
}

/** The variant of a rate model that predicts for `campaign`: its own, else the shared `*`, else the first. */
export function campaignVariant(m: LinearModel, campaign: string): number {
  return m.variantIndex.get(campaign) ?? m.variantIndex.get('*') ?? 0;
}

/** A model's predicted rate for the campaign (sigmoid of its variant's logit). */
export interface Prediction {
  readonly rate: number;
  readonly model: LinearModel;
}

/** A model's prediction by model name, or null when the model is missing (or none is named). */
export type Predict = (model: string | undefined) => Prediction | null;

/** A rate as priced: the model's prediction (`model` set), or the campaign's default (`model` null). */
export interface PricedRate {
  readonly rate: number;
  readonly model: LinearModel | null;
}

export interface CampaignPrice {
  /** pCTR and pCVR as priced; null where the goal does not use the rate (cpm: neither, cpc: no pCVR) or it has neither model nor default */
  readonly ctr: PricedRate | null;
  readonly cvr: PricedRate | null;
  /** `default` when a rate the goal uses came from the campaign's default rather than its model */
  readonly source: 'model' | 'default';
  /** the impression's value (CPM, campaign currency); null with `skip` */
  readonly value: number | null;
  /** why the campaign does not bid: a rate its goal needs has neither model nor default, or the value is under minCpm */
  readonly skip: 'noCtrModel' | 'noCvrModel' | 'belowMin' | null;
}

/**
 * The campaign's price of one impression: its goal's rates from `predict` (a model's prediction,
 * or null when the model is missing), else its default rates, and the value they give under
 * `modifier`. Every rate the goal uses is predicted, also when an earlier one is missing, so a
 * caller sees each missing model. (A model whose weights give NaN yields NaN, which
 * `impressionValue` refuses as `belowMin`.)
 */
export function priceCampaign(c: Campaign, predict: Predict, modifier: number): CampaignPrice {
  const b = c.bid;
  const ctr = b.goal === 'cpm' ? null : rateOf(predict, b.ctrModel, b.defaultCtr);
  const cvr = b.goal === 'cpa' ? rateOf(predict, b.cvrModel, b.defaultCvr) : null;
  const source = ctr?.model === null || cvr?.model === null ? 'default' : 'model';
  const skip = b.goal !== 'cpm' && ctr === null ? 'noCtrModel' : b.goal === 'cpa' && cvr === null ? 'noCvrModel' : null;
  if (skip !== null) return { ctr, cvr, source, value: null, skip };
  const value = impressionValue(c, { ctr: ctr?.rate ?? 1, cvr: cvr?.rate ?? 1 }, modifier);
  return { ctr, cvr, source, value, skip: value === null ? 'belowMin' : null };
}

function rateOf(predict: Predict, model: string | undefined, fallback: number | undefined): PricedRate | null {
  const p = predict(model);
  if (p !== null) return p;
  return fallback === undefined ? null : { rate: fallback, model: null };
}
