/**
 * GET /openrtb2/click: the click tracker an ad's `${CLICK_URL}` points to (bid-response.ts).
 * It logs a `click` outcome joined to the bid's decision, which is what pCTR trains on (with
 * the win notices that say the ad was shown), and sends the visitor on to the creative's
 * `clickUrl`, looked up in the current campaigns: the URL names no destination, so it cannot
 * be turned into an open redirect, and without a valid signature it goes nowhere (a guessed
 * campaign and creative id would otherwise show a draft's landing page).
 *
 * The visitor is never kept waiting for our sake: the redirect does not wait for the log (a
 * failed write is logged, and the browser cannot retry anyway), and a click more than 30 days
 * after the bid still goes on to its page, uncounted. One click per bid is counted (the event
 * id is the decision's, and a click this isolate already logged is not logged again:
 * recent-notices.ts); a HEAD request or a browser's prefetch is not a click.
 */
import { Hono } from 'hono';
import { UNKNOWN_EXCHANGE } from '../../core/bidding/exchange-keys.ts';
import { noticeExpired } from '../../core/bidding/notice-outcome.ts';
import { splitNotice, verifyClick } from '../../core/bidding/notice-signature.ts';
import type { OutcomeEvent } from '../../core/outcome-event.ts';
import { ledgerOf } from './campaign-state.ts';
import { campaigns } from './campaign-store.ts';
import { sendToLog } from '../log/log-producer.ts';
import { HttpError } from '../shared/http-error.ts';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { signingSecret, storeOptions } from '../shared/settings.ts';
import { ClickQuery, pairs } from './notice-query.ts';
import { log } from '../shared/log.ts';
import { kvOf } from '../shared/bindings.ts';
import { forgetNotice, recordedBefore, rememberNotice } from './recent-notices.ts';

/** A prefetch or prerender asks ahead of a click that may never come. */
const speculative = (c: AppContext): boolean =>
  /prefetch|prerender/i.test(`${c.req.header('sec-purpose') ?? ''} ${c.req.header('purpose') ?? ''} ${c.req.header('x-moz') ?? ''}`);

export const clickRoutes = new Hono<AppEnv>().get('/openrtb2/click', async (c) => {
  const parts = splitNotice(new URL(c.req.url).search.slice(1));
  const parsed = ClickQuery.safeParse(pairs(parts.signed));
  if (!parsed.success) throw new HttpError(400, 'bad_request', 'not a click URL of one of our ads', 'd');
  const { d, c: campaignId, cr, imp, t, x, test } = parsed.data;
  const secret = signingSecret(c);
  if (!secret || !verifyClick(secret, parts))
    throw new HttpError(403, 'invalid_signature', 'not a click URL of one of our ads (or altered)', 's');
  const now = Date.now();
  const landing = (await campaigns(kvOf(c.env), storeOptions(c, now)))
    .find((x) => x.id === campaignId)
    ?.creatives.find((x) => x.id === cr)?.clickUrl;
  if (noticeExpired(t, now)) {
    log.warn('click not counted', { decision: d, reason: 'expired' });
  } else if (c.req.method === 'GET' && !speculative(c) && test === undefined && !recordedBefore('click', d, 0)) {
    const event: OutcomeEvent = {
      type: 'outcome',
      v: 1,
      id: `click:${d}`,
      ts: now,
      receivedAt: now,
      name: 'click',
      decisionId: d,
      ...(imp ? { slot: imp } : {}),
      variant: `${campaignId}/${cr}`,
      exchange: x ?? UNKNOWN_EXCHANGE,
      props: { campaign: campaignId },
    };
    // remembered at once: the redirect does not wait for the log, and a double click follows fast
    rememberNotice('click', d, 0);
    c.executionCtx.waitUntil(
      sendToLog(c.env.EVENTS, [event]).catch((err: unknown) => {
        forgetNotice('click', d);
        log.error('click not recorded', { decision: d, error: String(err) });
      }),
    );
    // the campaign's stats count it too (once per bid), live (ledger-book.ts)
    const ledger = ledgerOf(c.env, campaignId);
    c.executionCtx.waitUntil(
      ledger.count('clicks', d, event.exchange!, now).catch((err: unknown) => {
        log.error('click not counted in the ledger', { decision: d, error: String(err) });
      }),
    );
  }
  if (landing === undefined) throw new HttpError(404, 'unknown_creative', 'this ad is no longer running', 'cr');
  // normalized: a landing page with non-ASCII characters goes out percent-encoded; one that is
  // no http(s) URL (a hand-edited list: `http://[x`, a port past 65535) goes nowhere, never a 500
  const target = URL.canParse(landing) ? new URL(landing) : null;
  if (target === null || (target.protocol !== 'http:' && target.protocol !== 'https:')) {
    log.error('click: landing page is not an http(s) URL', { campaign: campaignId, creative: cr });
    throw new HttpError(404, 'unknown_creative', 'this ad has no usable landing page', 'cr');
  }
  return c.body(null, 302, { location: target.href, 'cache-control': 'no-store' });
});
