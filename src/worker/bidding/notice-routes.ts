/**
 * Win, billing and loss notices (`nurl`, `burl`, `lurl` of our bids), GET or POST as exchanges
 * call them. The exchange expands `${AUCTION_PRICE}`, `${AUCTION_MIN_TO_WIN}`, `${AUCTION_LOSS}`
 * … in the URL; each notice becomes an `OutcomeEvent` (win / billing / loss, with `auction`
 * fields) on the log, where it trains pCTR and the shading curves. Wins and billings also book
 * the cost in the campaign's ledger (once per bid, whichever notice comes first).
 *
 * Notice URLs are signed per kind (notice-signature.ts): an altered or invented one, or a loss
 * URL called as a win, gets a 403; one older than 30 days a 410. Our fields come from the
 * signed prefix only, the exchange's macros from after it (a name given twice is a 400, others
 * are ignored), and what we pay is booked at most at our bid. Prices are in the exchange's
 * `${AUCTION_CURRENCY}`, else in the bid's currency (signed), and are booked and logged in the
 * campaign currency. A win notice answers with the creative's markup, its macros expanded, for exchanges that
 * serve the ad from the win notice. Notices await the log: a 503 lets the exchange retry
 * rather than losing the event.
 *
 * Notices need no exchange key (exchanges' notice systems and browsers fire them): the signature
 * is the credential, and it covers the exchange the bid was made for (`x`), which the ledger and
 * the outcome event book it against. A notice signed before exchanges were configured names
 * none and is booked against `unknown` (notice-signature.ts).
 */
import { Hono } from 'hono';
import { CAMPAIGN_CURRENCY } from '../../core/bidding/campaign.ts';
import { convert } from '../../core/bidding/currency.ts';
import { UNKNOWN_EXCHANGE } from '../../core/bidding/exchange-keys.ts';
import { expandMacros, macroNumber } from '../../core/bidding/macros.ts';
import { hashVisitor } from '../../core/decision-record.ts';
import type { OutcomeEvent } from '../../core/outcome-event.ts';
import { validate } from '../shared/body.ts';
import { addLocalSpend } from './campaign-state.ts';
import { campaigns, fxRates } from './campaign-store.ts';
import { sendToLog } from '../log/log-producer.ts';
import { LATE, within } from './deadline.ts';
import { HttpError } from '../shared/http-error.ts';
import { clickQuery, clickTrackerUrl, withClickUrl } from '../../core/bidding/bid-response.ts';
import { clickSignature, NOTICE_KINDS, splitNotice, verifyNotice, type NoticeKind } from '../../core/bidding/notice-signature.ts';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { profileSecret, storeOptions } from '../shared/settings.ts';
import { MacroQuery, macroPairs, NOTICE_MAX_AGE_S, pairs, SignedQuery } from './notice-query.ts';
import { log } from '../shared/log.ts';

/** How long a notice waits for the log and the ledger before asking the exchange to retry. */
const NOTICE_DEADLINE_MS = 5_000;
const real = (s: string | undefined) => (s === undefined || s.includes('${') ? undefined : s);

/**
 * The price to book. What we pay (win, billing) is at most our bid: an exchange that rounds up
 * a cent, or someone inflating a genuine URL, gets our bid. A negative price means nothing and
 * is dropped (a win then costs our bid). A loss notice's price is the winner's, above ours.
 * Refusing instead would lose the notice: exchanges do not retry a 4xx.
 */
function boundedPrice(name: string, price: number | undefined, ourBid: number | undefined, decision: string): number | undefined {
  if (price === undefined) return undefined;
  if (price < 0) {
    log.warn('notice: negative price dropped', { decision, price });
    return undefined;
  }
  if (name !== 'loss' && ourBid !== undefined && price > ourBid) {
    if (price > ourBid * 1.01 + 0.01) log.warn('notice: price above our bid, booked at our bid', { decision, price, bid: ourBid });
    return ourBid;
  }
  return price;
}

async function notice(c: AppContext, name: NoticeKind): Promise<Response> {
  const parts = splitNotice(new URL(c.req.url).search.slice(1));
  // Unsigned: read it whole, to name a missing field before refusing it.
  const q: SignedQuery = validate(SignedQuery, pairs(parts.signed));
  const m: MacroQuery = parts.signature === null ? {} : validate(MacroQuery, macroPairs(parts.after));
  const secret = profileSecret(c);
  if (!secret) throw new HttpError(503, 'not_configured', 'PROFILE_SECRET is not set; notices cannot be verified');
  if (!verifyNotice(secret, parts, name)) {
    throw new HttpError(403, 'invalid_signature', `not the ${name} notice of one of our bids (or altered)`, 's');
  }
  const now = Date.now();
  if (now / 1000 - Number(q.t) > NOTICE_MAX_AGE_S) {
    throw new HttpError(410, 'expired', `notices are taken for ${NOTICE_MAX_AGE_S / 86_400} days after the bid`, 't');
  }
  const exchange = q.x ?? UNKNOWN_EXCHANGE;
  const store = storeOptions(c, now);
  const rates = await fxRates(c.env.MODELS, store);
  // Prices arrive in the exchange's currency (`${AUCTION_CURRENCY}`), or, when it withholds it,
  // in the bid's. Everything is booked and logged in the campaign currency.
  const bidCurrency = q.bc;
  const said = real(m.cur)?.toUpperCase();
  const priceCurrency = said && convert(rates, 1, said, bidCurrency) !== null ? said : bidCurrency;
  if (said && priceCurrency !== said)
    log.warn("notice: unknown currency, read as the bid's", { decision: q.d, currency: said, bid: bidCurrency });
  const inBidCurrency = (x: number | undefined) => (x === undefined ? undefined : (convert(rates, x, priceCurrency, bidCurrency) ?? x));
  const toCampaign = (x: number) => {
    const v = convert(rates, x, bidCurrency, CAMPAIGN_CURRENCY);
    if (v === null) log.warn('notice: no rate for the bid currency, booked as is', { decision: q.d, currency: bidCurrency });
    return v ?? x;
  };
  const ourBid = macroNumber(q.bid);
  const price = boundedPrice(name, inBidCurrency(macroNumber(m.price)), ourBid, q.d);
  const rawMinToWin = inBidCurrency(macroNumber(m.mtw));
  const minToWin = rawMinToWin !== undefined && rawMinToWin >= 0 ? rawMinToWin : undefined; // negative: meaningless, dropped
  const lossReason = macroNumber(m.reason);
  const auction = {
    ...(price !== undefined ? { price: toCampaign(price) } : {}),
    ...(minToWin !== undefined ? { minToWin: toCampaign(minToWin) } : {}),
    ...(name === 'loss' && lossReason !== undefined ? { lossReason } : {}),
  };
  // One id per bid and notice kind: an exchange's retries and replays are one event to the log.
  const event: OutcomeEvent = {
    type: 'outcome',
    v: 1,
    id: `${name}:${q.d}`,
    ts: now,
    receivedAt: now,
    name,
    decisionId: q.d,
    ...(q.u ? { visitor: hashVisitor(q.u) } : {}),
    ...(q.imp ? { slot: q.imp } : {}),
    variant: q.cr ? `${q.c}/${q.cr}` : q.c,
    ...(price !== undefined ? { value: toCampaign(price), currency: CAMPAIGN_CURRENCY } : {}),
    auction,
    exchange,
    props: {
      campaign: q.c,
      ...(ourBid !== undefined ? { bid: toCampaign(ourBid) } : {}),
      ...(bidCurrency !== CAMPAIGN_CURRENCY ? { bidCurrency } : {}),
      ...(q.pub ? { pub: q.pub } : {}),
      ...(real(m.auc) ? { auctionId: m.auc! } : {}),
    },
  };
  const work: Promise<unknown>[] = [sendToLog(c.env.EVENTS, [event])];
  if (name !== 'loss') {
    // the clearing price, or our own bid when the exchange did not expand the macro (first price)
    const cpm = price ?? ourBid;
    if (cpm !== undefined) {
      const cost = toCampaign(cpm) / 1000;
      const stub = c.env.CAMPAIGN_LEDGER.get(c.env.CAMPAIGN_LEDGER.idFromName(q.c));
      work.push(
        stub.record({ decisionId: q.d, ts: now, cost, user: q.u ?? null, exchange }).then((fresh) => {
          if (fresh) addLocalSpend(q.c, cost, now);
        }),
      );
    }
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
  if (name === 'win' && q.cr) {
    const list = await campaigns(c.env.MODELS, store);
    const creative = list.find((x) => x.id === q.c)?.creatives.find((x) => x.id === q.cr);
    if (creative) {
      const cq = clickQuery(q.d, q.c, q.cr, q.imp, q.t, q.x);
      const adm =
        creative.clickUrl === undefined
          ? creative.adm
          : withClickUrl(
              creative.adm,
              creative.media,
              clickTrackerUrl(`${new URL(c.req.url).origin}/openrtb2`, cq, clickSignature(secret, cq)),
            );
      const markup = expandMacros(adm, {
        AUCTION_PRICE: price ?? '',
        AUCTION_MIN_TO_WIN: minToWin ?? '',
        AUCTION_CURRENCY: bidCurrency,
        AUCTION_BID_ID: q.d,
        AUCTION_IMP_ID: q.imp ?? '',
        AUCTION_AD_ID: q.cr,
        AUCTION_ID: real(m.auc) ?? '',
      });
      return c.body(markup, 200, { 'content-type': 'text/html; charset=utf-8' });
    }
  }
  return c.body(null, 204);
}

export const noticeRoutes = new Hono<AppEnv>();
for (const name of NOTICE_KINDS) {
  noticeRoutes.get(`/openrtb2/${name}`, (c) => notice(c, name));
  noticeRoutes.post(`/openrtb2/${name}`, (c) => notice(c, name));
}
