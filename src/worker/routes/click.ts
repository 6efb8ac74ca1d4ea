/**
 * GET /openrtb2/click: the click tracker an ad's `${CLICK_URL}` points to (bid-response.ts).
 * It logs a `click` outcome joined to the bid's decision, which is what pCTR trains on (with
 * the win notices that say the ad was shown), and sends the visitor on to the creative's
 * `clickUrl`, looked up in the current campaigns: the URL names no destination, so it cannot
 * be turned into an open redirect.
 *
 * A visitor is never kept waiting or shown an error for our sake: the redirect does not wait
 * for the log (a failed write is logged, and the browser cannot retry anyway), and a click
 * whose signature fails or that is older than 30 days still goes on to its page if the creative
 * is known, just unlogged. One click per bid is counted (the event id is the decision's).
 */
import { Hono } from 'hono';
import { splitNotice, verifyClick } from '../../core/bidding/notice-signature.ts';
import { hashVisitor } from '../../core/decision-record.ts';
import type { OutcomeEvent } from '../../core/outcome-event.ts';
import { campaigns } from '../campaign-store.ts';
import { sendToLog } from '../decision-log.ts';
import { HttpError } from '../http-error.ts';
import { profileSecret } from '../visitor.ts';
import type { AppEnv } from '../types.ts';
import { storeOptions } from '../visit.ts';
import { NOTICE_MAX_AGE_S, pairs, SignedQuery } from './notices.ts';

export const clickRoutes = new Hono<AppEnv>().get('/openrtb2/click', async (c) => {
  const parts = splitNotice(new URL(c.req.url).search.slice(1));
  const q = SignedQuery.safeParse(pairs(parts.signed));
  if (!q.success) throw new HttpError(400, 'bad_request', 'not a click URL of one of our ads', 'd');
  const { d, c: campaignId, cr, imp, u, pub, t } = q.data;
  const now = Date.now();
  const list = await campaigns(c.env.MODELS, storeOptions(c, now));
  const landing = list.find((x) => x.id === campaignId)?.creatives.find((x) => x.id === cr)?.clickUrl;
  const secret = profileSecret(c);
  const genuine = secret !== undefined && verifyClick(secret, parts);
  const fresh = now / 1000 - Number(t) <= NOTICE_MAX_AGE_S;
  if (genuine && fresh) {
    const event: OutcomeEvent = {
      type: 'outcome', v: 1, id: `click:${d}`, ts: now, receivedAt: now, name: 'click', decisionId: d,
      ...(u ? { visitor: hashVisitor(u) } : {}), ...(imp ? { slot: imp } : {}), variant: cr ? `${campaignId}/${cr}` : campaignId,
      props: { campaign: campaignId, ...(pub ? { pub } : {}) },
    };
    c.executionCtx.waitUntil(sendToLog(c.env.EVENTS, [event]).catch((err: unknown) => {
      console.error(JSON.stringify({ msg: 'click not recorded', decision: d, error: String(err) }));
    }));
  } else {
    console.warn(JSON.stringify({ msg: 'click not counted', decision: d, reason: genuine ? 'expired' : 'signature' }));
  }
  if (landing === undefined) throw new HttpError(404, 'unknown_creative', 'this ad is no longer running', 'cr');
  return c.body(null, 302, { location: landing, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer-when-downgrade' });
});
