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
import { bidRecords } from '../../core/bidding/bid-records.ts';
import { createBidderScratch, needsShading, rateModels, runBidder } from '../../core/bidding/bidder.ts';
import type { Campaign } from '../../core/bidding/campaign.ts';
import type { RatesTable } from '../../core/bidding/currency.ts';
import { noticeSigner } from '../../core/bidding/notice-signature.ts';
import { parseOpenRtbVersion, validateBidRequest } from '../../core/bidding/openrtb-validate.ts';
import { SHADING_MODEL, type ShadingModel } from '../../core/bidding/shading-model.ts';
import type { LinearModel } from '../../core/linear-model.ts';
import { logRecords } from '../log/log-producer.ts';
import { LINEAR, SHADING } from '../models/adapters.ts';
import { resolveModel, type Resolved } from '../models/model-store.ts';
import { parseJson } from '../shared/body.ts';
import { badRequest, HttpError } from '../shared/http-error.ts';
import { log, warnRepeating } from '../shared/log.ts';
import { signingSecret, storeOptions } from '../shared/settings.ts';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { debugNoBid, debugReport, explainFor, isTest } from './bid-debug.ts';
import { campaignStates, reserveBids, type SpendView } from './campaign-state.ts';
import { campaigns, fxRates } from './campaign-store.ts';
import { LATE, within } from './deadline.ts';
import { bidExchange } from './exchange-auth.ts';
import { acceptsGzip, jsonResponse, readMaybeGzip } from './gzip.ts';
import { fetchPlacements, lastPaidLookup } from './placement-prices.ts';
import { requestSite } from './request-site.ts';
import { kvOf } from '../shared/bindings.ts';

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

/** What a bid reads from KV and the campaigns' ledgers. */
interface BidState {
  readonly campaigns: readonly Campaign[];
  /** paused ones too: a debug request's explanation names them (`paused`) */
  readonly all: readonly Campaign[];
  readonly rates: RatesTable;
  readonly models: ReadonlyMap<string, LinearModel | null>;
  /** the shading model, when the request has a first-price auction */
  readonly shading: Resolved<ShadingModel> | null;
  readonly states: SpendView;
  /** the attune site of the request's host (request-site.ts); resolved only when a campaign targets sites */
  readonly site: string | null;
}

/**
 * A cold isolate reads campaigns, rates and models from KV: an answer after tmax is no use to
 * the exchange, so the reads race the deadline (they go on in the background, shared), and
 * running out of time is a no-bid.
 */
async function readState(
  c: AppContext,
  req: BidRequest,
  userKey: string | null,
  now: number,
  deadline: number,
): Promise<BidState | 'tmax' | 'noCampaigns'> {
  const kv = kvOf(c.env);
  const store = storeOptions(c, now);
  const configs = await within(Promise.all([campaigns(kv, store), fxRates(kv, store)]), deadline - Date.now());
  if (configs === LATE) return 'tmax';
  const [list, rates] = configs;
  const active = list.filter((x) => x.status === 'active');
  if (active.length === 0) return 'noCampaigns';
  const models = new Map<string, LinearModel | null>();
  const reads = await within(
    Promise.all([
      Promise.all(
        [...rateModels(active)].map(async (n) => {
          const r = await resolveModel(kv, n, LINEAR, store);
          models.set(n, r.ok ? r.model : null);
          if (!r.ok) warnRepeating('bid model fallback', { model: n, reason: r.reason });
        }),
      ),
      needsShading(req) ? resolveModel(kv, SHADING_MODEL, SHADING, store) : Promise.resolve(null),
      campaignStates(c.env, active, userKey, now, deadline - Date.now() - MIN_BUDGET_MS, store.waitUntil),
      active.some((x) => x.targeting.sites) ? requestSite(kv, req, store) : null,
    ]),
    deadline - Date.now(),
  );
  if (reads === LATE || deadline - Date.now() < 1) return 'tmax';
  const [, shading, states, site] = reads;
  return { campaigns: active, all: list, rates, models, shading, states, site };
}

/** One isolate's bidder buffers (bidder.ts): a run never yields, so requests take turns with them. */
const scratch = createBidderScratch();

async function bid(c: AppContext, started: number, exchange: string): Promise<Response> {
  const version = parseOpenRtbVersion(c.req.header('x-openrtb-version'));
  if (version === null) throw badRequest('x-openrtb-version must be 2.5 or 2.6', 'x-openrtb-version');
  const v = validateBidRequest(parseJson(await readMaybeGzip(c.req.raw, MAX_BID_BODY)), version);
  if (!v.ok) throw badRequest(`${v.field}: ${v.reason}`, v.field);
  const req = v.request;
  const test = isTest(req);
  const explain = explainFor(c, req, exchange);
  /** A no-bid: a 204, or for a debug request a 200 that says why. */
  const none = (reason: string, extra: Record<string, string> = {}, report = debugReport(test, exchange, 0, null, { nobid: reason })) =>
    explain
      ? jsonResponse(debugNoBid(req, report), acceptsGzip(c.req.raw), { 'x-openrtb-version': version, 'x-attune-nobid': reason, ...extra })
      : noBid(c, reason, extra);
  const userKey = bidUserKey(req); // once: frequency caps, the bidder, the decision records
  // an unsigned notice could be forged to book spend: without the secret, no bid at all
  const secret = signingSecret(c);
  if (!secret) return none('notConfigured', { 'x-attune-fallback': 'SIGNING_SECRET=missing' });
  const deadline = started + (req.tmax ?? DEFAULT_TMAX) - NETWORK_MARGIN_MS;
  if (deadline - Date.now() < MIN_BUDGET_MS) return none('tmax');

  const now = Date.now();
  const state = await readState(c, req, userKey, now, deadline);
  if (typeof state === 'string') return none(state);
  const paid = lastPaidLookup(now);
  const out = runBidder({
    request: req,
    userKey,
    site: state.site,
    now,
    campaigns: explain ? state.all : state.campaigns,
    rates: state.rates,
    models: (n) => state.models.get(n) ?? null,
    shading: state.shading?.ok ? state.shading.model : null,
    state: state.states.state,
    uniform: Math.random,
    newId: () => crypto.randomUUID(),
    noticeBase: `${new URL(c.req.url).origin}/openrtb2`,
    exchange,
    signer: noticeSigner(secret),
    scratch,
    explain,
    test,
    lastPaid: paid.lookup,
  });
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
  // before this request yields: the next one in this isolate must see these bids' money as spoken for
  if (!test && out.decisions.length > 0) reserveBids(c.env, out.decisions, exchange, now, waitUntil);
  if (paid.missed.length > 0) waitUntil(fetchPlacements(paid.missed, now));
  const fallbacks = [...out.fallbacks];
  if (state.shading && !state.shading.ok) fallbacks.push(`${SHADING_MODEL}=${state.shading.reason}`);
  const fallback = fallbacks.length > 0 ? [...new Set(fallbacks)].join(', ') : undefined;
  if (fallback !== undefined) log.warn('bid fallbacks', { request: req.id, fallbacks });
  const active = state.campaigns.length;
  if (out.response === null) {
    const reason = Object.keys(out.skipped).join(',') || 'noEligible';
    const report = debugReport(test, exchange, active, out.trace, { currency: out.currency, nobid: reason, fallbacks });
    return none(reason, fallback ? { 'x-attune-fallback': fallback } : {}, report);
  }
  // a test auction is not real traffic: the models must not train on it
  if (!test) logRecords(c.env.EVENTS, bidRecords(out, req, userKey, now, exchange), waitUntil);
  if (explain) out.response.ext!.debug = debugReport(test, exchange, active, out.trace, { currency: out.currency, fallbacks });
  // the answer speaks the caller's version (our 2.6 fields are ignorable extras to 2.5 parsers)
  const headers: Record<string, string> = { 'x-openrtb-version': version };
  if (fallback !== undefined) headers['x-attune-fallback'] = fallback;
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
