/**
 * POST /v1/bid-adjust: for ad servers that run their own auction. OpenRTB-shaped context in
 * (site or app, device, user, the imp); the campaign's pCTR, pCVR (cpa goals) and a bid
 * multiplier out: predicted rates over the campaign's baseline (its default rates, else the
 * model's bias-only rate), times its bid modifiers. Features come from the same extractor as
 * bids, so the numbers match what `/openrtb2/bid` would have priced.
 *
 * Server to server: it tells the caller campaigns' values and modifiers, so it takes a partner
 * (or the admin) bearer token, and browsers get no CORS grant for it.
 */
import { Hono } from 'hono';
import type { BidRequest } from 'iab-openrtb/v26';
import { impFeatureInput, impMedia, impSizes, requestFacts } from '../../core/bidding/bid-features.ts';
import { creativeSize, dealFor, pickCreative } from '../../core/bidding/campaign.ts';
import { validateBidRequest } from '../../core/bidding/openrtb-validate.ts';
import { bidMultiplier, campaignVariant, modifierOf, priceCampaign, type Prediction, type PricedRate } from '../../core/bidding/pricing.ts';
import { createFeatureVector, extractFeatures } from '../../core/features.ts';
import { scoreVariants, sigmoid, type LinearModel } from '../../core/linear-model.ts';
import { requirePartner } from '../shared/bearer-auth.ts';
import { BidAdjustRequest } from './bidding-schemas.ts';
import { readJson } from '../shared/body.ts';
import { campaigns } from './campaign-store.ts';
import { badRequest, HttpError } from '../shared/http-error.ts';
import { resolveModel, type Resolved } from '../models/model-store.ts';
import type { AppEnv } from '../shared/types.ts';
import { storeOptions } from '../shared/settings.ts';
import { LINEAR } from '../models/adapters.ts';
import { log } from '../shared/log.ts';
import { kvOf } from '../shared/bindings.ts';

export const bidAdjustRoutes = new Hono<AppEnv>().use('/v1/bid-adjust', requirePartner).post('/v1/bid-adjust', async (c) => {
  const body = await readJson(c.req.raw, BidAdjustRequest, 64 * 1024);
  const shaped = {
    id: 'bid-adjust',
    imp: [{ id: '1', ...body.imp }],
    site: body.site,
    app: body.app,
    device: body.device,
    user: body.user,
  };
  const v = validateBidRequest(JSON.parse(JSON.stringify(shaped)));
  if (!v.ok) throw badRequest(`${v.field}: ${v.reason}`, v.field.replace(/^imp\[0\]/, 'imp'));
  const req: BidRequest = v.request;
  const now = Date.now();
  const store = storeOptions(c, now);
  const campaign = (await campaigns(kvOf(c.env), store)).find((x) => x.id === body.campaign);
  if (!campaign) throw new HttpError(404, 'unknown_campaign', `no campaign "${body.campaign}"`, 'campaign');
  const imp = req.imp[0]!;
  const facts = requestFacts(req, now);
  // The features of what the campaign would bid with, as `/openrtb2/bid` prices it: its
  // creative's media and size and its deal; with no creative that fits, the imp's first medium.
  const sizes = impSizes(imp);
  const creative = pickCreative(campaign, imp, req.bcat, sizes);
  const deal = dealFor(campaign, imp.pmp?.deals ?? [])?.id ?? 'open';
  const ctx =
    typeof creative === 'string'
      ? impFeatureInput(facts, imp, impMedia(imp)[0] ?? 'banner', sizes.banner[0] ?? sizes.video[0] ?? '', deal)
      : impFeatureInput(facts, imp, creative.media, creativeSize(creative), deal);
  const fv = extractFeatures(ctx, createFeatureVector());
  const logits = new Float64Array(64);

  // the campaign's models, read before pricing (which is synchronous, as the bidder's is)
  const goal = campaign.bid.goal;
  const names = [goal === 'cpm' ? undefined : campaign.bid.ctrModel, goal === 'cpa' ? campaign.bid.cvrModel : undefined];
  const resolved = new Map<string, Resolved<LinearModel>>();
  for (const name of names) if (name !== undefined) resolved.set(name, await resolveModel(kvOf(c.env), name, LINEAR, store));
  const fallbacks = [...resolved].filter(([, r]) => !r.ok).map(([name, r]) => `${name}=${r.ok ? '' : r.reason}`);
  if (fallbacks.length > 0) {
    c.header('x-attune-fallback', fallbacks.join(', '));
    log.warn('bid-adjust fallback', { campaign: campaign.id, fallbacks });
  }
  const predict = (name: string | undefined): Prediction | null => {
    const r = name === undefined ? undefined : resolved.get(name);
    if (r === undefined || !r.ok) return null;
    scoreVariants(r.model, fv, logits);
    return { rate: sigmoid(logits[campaignVariant(r.model, campaign.id)]!), model: r.model };
  };
  const modifier = modifierOf(campaign, ctx);
  const price = priceCampaign(campaign, predict, modifier);
  const missing = price.skip === 'noCtrModel' || price.skip === 'noCvrModel';
  // a rate's baseline: the campaign's default, else its model's bias-only rate
  const baseline = (r: PricedRate | null, fallback: number | undefined): number =>
    r === null ? 1 : r.model === null ? r.rate : (fallback ?? sigmoid(r.model.bias[campaignVariant(r.model, campaign.id)]!));
  const multiplier = missing
    ? 1
    : bidMultiplier(
        campaign,
        { ctr: price.ctr?.rate ?? 1, cvr: price.cvr?.rate ?? 1 },
        { ctr: baseline(price.ctr, campaign.bid.defaultCtr), cvr: baseline(price.cvr, campaign.bid.defaultCvr) },
        modifier,
      );
  const versionOf = (r: PricedRate | null, name: string | undefined): string | null => {
    const res = name === undefined ? undefined : resolved.get(name);
    return r?.model && res?.ok ? res.version : null;
  };
  return c.json({
    campaign: campaign.id,
    pctr: price.ctr?.rate ?? null,
    pcvr: price.cvr?.rate ?? null,
    multiplier,
    modifier,
    valueCpm: missing ? null : price.value,
    adjustedCpm: body.baseCpm === undefined || missing ? null : Math.min(body.baseCpm * multiplier, campaign.bid.maxCpm),
    source: missing ? 'fallback' : goal === 'cpm' ? 'fixed' : price.source,
    models: { ctr: versionOf(price.ctr, campaign.bid.ctrModel), cvr: versionOf(price.cvr, campaign.bid.cvrModel) },
  });
});
