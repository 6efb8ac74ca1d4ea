/**
 * POST /openrtb2/bid: OpenRTB 2.6 (2.5 accepted) bid requests from exchanges and ad servers.
 * Only from configured exchanges (exchange-auth.ts): the key as a bearer token, or the path form
 * `POST /openrtb2/bid/<exchangeId>/<token>`; anyone else gets a 401 or 403 before the body is
 * read. The exchange is named in every notice URL (signed) and in the decision records.
 *
 * 400 names the field for requests OpenRTB itself forbids; 204 (no body) is the no-bid, also
 * when `tmax` leaves no time to bid, when nothing is eligible, and when anything unexpected
 * happens: an exchange must never see a 5xx from a bidder, it throttles bidders that error.
 * Every bid is a decision record of kind `bid` on the log.
 */
import { Hono } from 'hono';
import type { BidRequest } from 'iab-openrtb/v26';
import { bidUserKey } from '../../core/bidding/bid-features.ts';
import { runBidder, type BidderOutput } from '../../core/bidding/bidder.ts';
import { parseOpenRtbVersion, validateBidRequest } from '../../core/bidding/openrtb-validate.ts';
import { SHADING_MODEL } from '../../core/bidding/shading-model.ts';
import { hashVisitor, type DecisionRecord } from '../../core/decision-record.ts';
import { FEATURE_SPEC_HASH } from '../../core/features.ts';
import type { LinearModel } from '../../core/linear-model.ts';
import { parseJson } from '../shared/body.ts';
import { campaignStates } from './campaign-state.ts';
import { noticeSigner } from '../../core/bidding/notice-signature.ts';
import { LATE, within } from './deadline.ts';
import { bidExchange } from './exchange-auth.ts';
import { campaigns, fxRates } from './campaign-store.ts';
import { logRecords } from '../log/log-producer.ts';
import { acceptsGzip, jsonResponse, readMaybeGzip } from './gzip.ts';
import { badRequest, HttpError } from '../shared/http-error.ts';
import { resolveModel } from '../models/model-store.ts';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { profileSecret, storeOptions } from '../shared/settings.ts';
import { LINEAR, SHADING } from '../models/adapters.ts';
import { log } from '../shared/log.ts';

export const MAX_BID_BODY = 512 * 1024;
/** below this much time left, answering no-bid is better than answering late */
export const MIN_BUDGET_MS = 5;
/** time kept back from `tmax` for the network on the way back */
export const NETWORK_MARGIN_MS = 10;
const DEFAULT_TMAX = 200;

/** The version our answers speak: the caller's when it named one we know, else 2.6. */
const answerVersion = (c: AppContext): string => parseOpenRtbVersion(c.req.header('x-openrtb-version')) ?? '2.6';

function noBid(c: AppContext, reason: string, extra: Record<string, string> = {}): Response {
  const h = new Headers({ 'x-openrtb-version': answerVersion(c), 'x-attune-nobid': reason, ...extra });
  return new Response(null, { status: 204, headers: h });
}

/** The decision records of a bidder run, one per bid. */
export function bidRecords(out: BidderOutput, req: BidRequest, userKey: string | null, now: number, exchange: string): DecisionRecord[] {
  // the notices' visitor too (they carry the user key), so outcomes join their decisions by visitor
  const visitor = hashVisitor(userKey ?? req.id);
  return out.decisions.map((d) => ({
    type: 'decision',
    v: 1,
    id: d.decisionId,
    ts: now,
    kind: 'bid',
    visitor,
    slot: d.impid,
    model: d.model,
    action: `${d.campaign}/${d.creative}`,
    propensity: d.propensity,
    score: d.price,
    source: d.source === 'model' ? 'model' : 'fallback',
    candidates: [`${d.campaign}/${d.creative}`],
    probabilities: [1],
    featureSpec: FEATURE_SPEC_HASH,
    context: d.context,
    exchange,
    ...(d.source === 'default' ? { fallback: 'defaultRate' } : {}),
  }));
}

async function bid(c: AppContext, started: number, exchange: string): Promise<Response> {
  const version = parseOpenRtbVersion(c.req.header('x-openrtb-version'));
  if (version === null) throw badRequest('x-openrtb-version must be 2.5 or 2.6', 'x-openrtb-version');
  const text = await readMaybeGzip(c.req.raw, MAX_BID_BODY);
  const v = validateBidRequest(parseJson(text), version);
  if (!v.ok) throw badRequest(`${v.field}: ${v.reason}`, v.field);
  const req = v.request;
  const userKey = bidUserKey(req); // once: frequency caps, the bidder, the decision records
  // an unsigned notice could be forged to book spend: without the secret, no bid at all
  const secret = profileSecret(c);
  if (!secret) return noBid(c, 'notConfigured', { 'x-attune-fallback': 'PROFILE_SECRET=missing' });
  const tmax = req.tmax ?? DEFAULT_TMAX;
  const deadline = started + tmax - NETWORK_MARGIN_MS;
  if (deadline - Date.now() < MIN_BUDGET_MS) return noBid(c, 'tmax');

  const now = Date.now();
  const store = storeOptions(c, now);
  // A cold isolate reads campaigns, rates and models from KV: an answer after tmax is no use to
  // the exchange, so the reads race the deadline (they go on in the background, shared).
  const configs = await within(Promise.all([campaigns(c.env.MODELS, store), fxRates(c.env.MODELS, store)]), deadline - Date.now());
  if (configs === LATE) return noBid(c, 'tmax');
  const [list, rates] = configs;
  const active = list.filter((x) => x.status === 'active');
  if (active.length === 0) return noBid(c, 'noCampaigns');

  const names = new Set<string>();
  for (const x of active) {
    if (x.bid.ctrModel) names.add(x.bid.ctrModel);
    if (x.bid.cvrModel) names.add(x.bid.cvrModel);
  }
  const models = new Map<string, LinearModel | null>();
  const firstPrice = (req.at ?? 2) === 1 || req.imp.some((i) => i.pmp?.deals?.some((d) => d.at === 1));
  const reads = await within(
    Promise.all([
      Promise.all(
        [...names].map(async (n) => {
          const r = await resolveModel(c.env.MODELS, n, LINEAR, store);
          models.set(n, r.ok ? r.model : null);
          if (!r.ok) log.warn('bid model fallback', { model: n, reason: r.reason });
        }),
      ),
      firstPrice ? resolveModel(c.env.MODELS, SHADING_MODEL, SHADING, store) : Promise.resolve(null),
      campaignStates(c.env, active, userKey, now, deadline - Date.now() - MIN_BUDGET_MS, store.waitUntil),
    ]),
    deadline - Date.now(),
  );
  if (reads === LATE || deadline - Date.now() < 1) return noBid(c, 'tmax');
  const [, shading, states] = reads;

  const out = runBidder({
    request: req,
    userKey,
    now,
    campaigns: active,
    rates,
    models: (n) => models.get(n) ?? null,
    shading: shading?.ok ? shading.model : null,
    state: (id) => states.get(id) ?? { spend: null, seen: 0 },
    uniform: Math.random,
    newId: () => crypto.randomUUID(),
    noticeBase: `${new URL(c.req.url).origin}/openrtb2`,
    exchange,
    signer: noticeSigner(secret),
  });
  const fallbacks = [...out.fallbacks];
  if (firstPrice && shading && !shading.ok) fallbacks.push(`${SHADING_MODEL}=${shading.reason}`);
  // the answer speaks the caller's version (our 2.6 fields are ignorable extras to 2.5 parsers)
  const headers: Record<string, string> = { 'x-openrtb-version': version };
  if (fallbacks.length > 0) {
    headers['x-attune-fallback'] = [...new Set(fallbacks)].join(', ');
    log.warn('bid fallbacks', { request: req.id, fallbacks });
  }
  if (out.response === null) {
    return noBid(
      c,
      Object.keys(out.skipped).join(',') || 'noEligible',
      headers['x-attune-fallback'] ? { 'x-attune-fallback': headers['x-attune-fallback'] } : {},
    );
  }
  logRecords(c.env.EVENTS, bidRecords(out, req, userKey, now, exchange), (p) => c.executionCtx.waitUntil(p));
  return jsonResponse(out.response, acceptsGzip(c.req.raw), headers);
}

async function answer(c: AppContext, path?: { exchange: string; token: string | undefined }): Promise<Response> {
  const started = Date.now();
  c.header('x-openrtb-version', answerVersion(c)); // on every answer, errors included (§2.4)
  const exchange = bidExchange(c, path); // before the body is read: strangers cost nothing
  try {
    return await bid(c, started, exchange);
  } catch (err) {
    if (err instanceof HttpError && err.status < 500) throw err;
    // Never a 5xx to an exchange: log it whole and no-bid.
    log.error('bid failed, answering no-bid', { exchange, error: String(err), stack: (err as Error).stack });
    return noBid(c, 'error');
  }
}

export const bidRoutes = new Hono<AppEnv>()
  .post('/openrtb2/bid', (c) => answer(c))
  // for exchanges that cannot set a header (exchange-keys.ts: the token, never the key, is in the URL)
  .post('/openrtb2/bid/:exchange/:token?', (c) => answer(c, { exchange: c.req.param('exchange'), token: c.req.param('token') }));
