/**
 * Win, billing and loss notices (`nurl`, `burl`, `lurl` of our bids), GET or POST as exchanges
 * call them. The exchange expands `${AUCTION_PRICE}`, `${AUCTION_MIN_TO_WIN}`, `${AUCTION_LOSS}`
 * … in the URL; each notice becomes an `OutcomeEvent` (win / billing / loss, with `auction`
 * fields) on the log, where it trains pCTR and the shading curves. Wins and billings also book
 * the cost in the campaign's ledger, once per bid at the highest price its notices named (capped
 * at our bid: campaign-ledger.ts). A HEAD request books and logs nothing; a notice this isolate
 * already recorded is answered without a log line or a ledger call (recent-notices.ts).
 *
 * Notice URLs are signed per kind (notice-signature.ts): an altered or invented one, or a loss
 * URL called as a win, gets a 403; one older than 30 days a 410. Our fields come from the
 * signed prefix only, the exchange's macros from after it (a name given twice is a 400, others
 * are ignored: notice-query.ts). What the notice means (the event, the price booked at most at
 * our bid, the currencies) is core/bidding/notice-outcome.ts's; this route does the I/O. A win
 * notice answers with the creative's markup, its macros expanded, for exchanges that serve the
 * ad from the win notice. Notices await the log: a 503 lets the exchange retry rather than
 * losing the event.
 *
 * Notices need no exchange key (exchanges' notice systems and browsers fire them): the signature
 * is the credential, and it covers the exchange the bid was made for (`x`), which the ledger and
 * the outcome event book it against. A notice signed before exchanges were configured names
 * none and is booked against `unknown` (notice-signature.ts).
 */
import { Hono } from 'hono';
import { clickQuery, clickTrackerUrl, withClickUrl } from '../../core/bidding/bid-response.ts';
import { expandMacros } from '../../core/bidding/macros.ts';
import { NOTICE_MAX_AGE_S, noticeExpired, noticeOutcome, type NoticeOutcome } from '../../core/bidding/notice-outcome.ts';
import { clickSignature, NOTICE_KINDS, splitNotice, verifyNotice, type NoticeKind } from '../../core/bidding/notice-signature.ts';
import { sendToLog } from '../log/log-producer.ts';
import { validate } from '../shared/body.ts';
import { HttpError } from '../shared/http-error.ts';
import { log } from '../shared/log.ts';
import type { StoreOptions } from '../shared/refresh-cache.ts';
import { signingSecret, storeOptions } from '../shared/settings.ts';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { addLocalSpend, ledgerOf } from './campaign-state.ts';
import { campaigns, fxRates } from './campaign-store.ts';
import { LATE, within } from './deadline.ts';
import { MacroQuery, macroPairs, pairs, SignedQuery } from './notice-query.ts';
import { noticeStats } from './notice-stats.ts';
import { kvOf } from '../shared/bindings.ts';
import { recordedBefore, rememberNotice } from './recent-notices.ts';

const MARKUP_CSP = 'sandbox allow-scripts allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation';

/** How long a notice waits for the log and the ledger before asking the exchange to retry. */
const NOTICE_DEADLINE_MS = 5_000;

async function notice(c: AppContext, name: NoticeKind): Promise<Response> {
  const parts = splitNotice(new URL(c.req.url).search.slice(1));
  // Unsigned: read it whole, to name a missing field before refusing it.
  const q: SignedQuery = validate(SignedQuery, pairs(parts.signed));
  const m: MacroQuery = parts.signature === null ? {} : validate(MacroQuery, macroPairs(parts.after));
  const secret = signingSecret(c);
  if (!secret) throw new HttpError(503, 'not_configured', 'SIGNING_SECRET is not set; notices cannot be verified');
  if (!verifyNotice(secret, parts, name)) {
    throw new HttpError(403, 'invalid_signature', `not the ${name} notice of one of our bids (or altered)`, 's');
  }
  const now = Date.now();
  if (noticeExpired(q.t, now)) {
    throw new HttpError(410, 'expired', `notices are taken for ${NOTICE_MAX_AGE_S / 86_400} days after the bid`, 't');
  }
  // HEAD is a link checker or a prefetch, not the exchange telling us of an auction: it books
  // nothing and logs nothing (a GET or POST is the notice)
  if (c.req.method === 'HEAD') return c.body(null, 204);
  const store = storeOptions(c, now);
  const outcome = noticeOutcome(name, q, m, await fxRates(kvOf(c.env), store), now);
  // a replay this isolate has recorded (at this price or more) costs no log line or ledger call
  if (!recordedBefore(name, q.d, outcome.cost ?? 0)) await record(c, name, q, outcome, now);
  const markup = name === 'win' && q.cr ? await winMarkup(c, store, q, secret, outcome.macros) : null;
  if (markup === null) return c.body(null, 204);
  // The campaign's markup, served from our origin: a browser that loads it runs it sandboxed in
  // an opaque origin (never `allow-same-origin`), so its scripts cannot read or post with our
  // origin's cookies (the admin page's among them); an ad still runs and opens its landing page.
  return c.body(markup, 200, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': MARKUP_CSP,
    'x-content-type-options': 'nosniff',
  });
}

/** Logs the notice and books its cost (503 when either cannot be done in time: the exchange retries). */
async function record(c: AppContext, name: NoticeKind, q: SignedQuery, outcome: NoticeOutcome, now: number): Promise<void> {
  for (const n of outcome.notes) log.warn(n.msg, n.fields);
  // a test auction's notice (signed `test=1`, bid-debug.ts) books and logs nothing
  const test = q.test === '1';
  const work: Promise<unknown>[] = test ? [] : [sendToLog(c.env.EVENTS, [outcome.event])];
  const cost = outcome.cost;
  // one stub per notice, for the booking and the stats alike
  let stub: ReturnType<typeof ledgerOf> | undefined;
  const ledger = () => (stub ??= ledgerOf(c.env, q.c));
  if (!test) work.push(...noticeStats(ledger, name, q, cost, outcome.exchange, now));
  if (cost !== null && !test) {
    work.push(
      ledger()
        .record({ decisionId: q.d, ts: now, cost, user: q.u ?? null, exchange: outcome.exchange })
        .then((added) => {
          if (added > 0) addLocalSpend(q.c, added, now);
        }),
    );
  }
  // Bounded: a stalled queue or ledger answers 503 (the exchange retries, and a retry is one
  // event and one booking: ids above, the ledger keys on the decision), and what is under way
  // may still finish in the background.
  const recorded = Promise.all(work);
  c.executionCtx.waitUntil(recorded.catch(() => {}));
  try {
    if ((await within(recorded, NOTICE_DEADLINE_MS)) === LATE) throw new Error(`not recorded within ${NOTICE_DEADLINE_MS} ms`);
  } catch (err) {
    log.error('notice not recorded', { name, decision: q.d, error: String(err) });
    throw new HttpError(503, 'unavailable', 'notice could not be recorded; retry');
  }
  rememberNotice(name, q.d, cost ?? 0);
}

/**
 * A win notice's answer, for exchanges that serve the ad from it: the creative's current
 * markup with its click tracker and auction macros filled in; null when the campaign no longer
 * has the creative.
 */
async function winMarkup(
  c: AppContext,
  store: StoreOptions,
  q: SignedQuery,
  secret: string,
  macros: NoticeOutcome['macros'],
): Promise<string | null> {
  const list = await campaigns(kvOf(c.env), store);
  const creative = list.find((x) => x.id === q.c)?.creatives.find((x) => x.id === q.cr);
  if (!creative) return null;
  const cq = clickQuery(q.d, q.c, creative.id, q.imp, q.t, q.x, q.test === '1');
  const adm =
    creative.clickUrl === undefined
      ? creative.adm
      : withClickUrl(
          creative.adm,
          creative.media,
          clickTrackerUrl(`${new URL(c.req.url).origin}/openrtb2`, cq, clickSignature(secret, cq)),
        );
  return expandMacros(adm, macros);
}

export const noticeRoutes = new Hono<AppEnv>();
for (const name of NOTICE_KINDS) {
  noticeRoutes.get(`/openrtb2/${name}`, (c) => notice(c, name));
  noticeRoutes.post(`/openrtb2/${name}`, (c) => notice(c, name));
}
