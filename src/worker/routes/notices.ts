/**
 * Win, billing and loss notices (`nurl`, `burl`, `lurl` of our bids), GET or POST as exchanges
 * call them. The exchange expands `${AUCTION_PRICE}`, `${AUCTION_MIN_TO_WIN}`, `${AUCTION_LOSS}`
 * … in the URL; each notice becomes an `OutcomeEvent` (win / billing / loss, with `auction`
 * fields) on the log, where it trains pCTR and the shading curves. Wins and billings also book
 * the cost in the campaign's ledger (once per bid, whichever notice comes first).
 *
 * Notice URLs are signed (notice-signature.ts): an altered or invented one gets a 403.
 * A win notice answers with the creative's markup, its macros expanded, for exchanges that
 * serve the ad from the win notice. Notices await the log: a 503 lets the exchange retry
 * rather than losing the event.
 */
import { Hono } from 'hono';
import * as z from 'zod/mini';
import { CAMPAIGN_CURRENCY } from '../../core/bidding/campaign.ts';
import { convert } from '../../core/bidding/currency.ts';
import { expandMacros, macroNumber } from '../../core/bidding/macros.ts';
import { hashVisitor } from '../../core/decision-record.ts';
import type { OutcomeEvent, OutcomeName } from '../../core/outcome-event.ts';
import { validate } from '../body.ts';
import { addLocalSpend } from '../campaign-state.ts';
import { campaigns, fxRates } from '../campaign-store.ts';
import { sendToLog } from '../decision-log.ts';
import { HttpError } from '../http-error.ts';
import { verifyNotice } from '../notice-signature.ts';
import { profileSecret } from '../visitor.ts';
import type { AppContext, AppEnv } from '../types.ts';
import { storeOptions } from '../visit.ts';

const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
const NoticeQuery = z.object({
  d: text(64), c: text(64), cr: z.optional(text(64)), imp: z.optional(text(128)),
  bid: z.optional(z.string()), pub: z.optional(z.string().check(z.maxLength(128))), u: z.optional(text(256)),
  price: z.optional(z.string()), mtw: z.optional(z.string()), cur: z.optional(z.string()),
  reason: z.optional(z.string()), auc: z.optional(z.string()), s: z.optional(z.string()),
});
type NoticeQuery = z.infer<typeof NoticeQuery>;

const real = (s: string | undefined) => (s === undefined || s.includes('${') ? undefined : s);

async function notice(c: AppContext, name: Extract<OutcomeName, 'win' | 'loss' | 'billing'>): Promise<Response> {
  const url = new URL(c.req.url);
  const q: NoticeQuery = validate(NoticeQuery, Object.fromEntries(url.searchParams));
  const secret = profileSecret(c);
  if (!secret) throw new HttpError(503, 'not_configured', 'PROFILE_SECRET is not set; notices cannot be verified');
  if (!(await verifyNotice(secret, url.search.slice(1)))) {
    throw new HttpError(403, 'invalid_signature', 'notice URL is not one of our bids (or was altered)', 's');
  }
  const now = Date.now();
  const price = macroNumber(q.price);
  const minToWin = macroNumber(q.mtw);
  const lossReason = macroNumber(q.reason);
  const ourBid = macroNumber(q.bid);
  const currency = real(q.cur)?.toUpperCase() || CAMPAIGN_CURRENCY;
  const auction = {
    ...(price !== undefined ? { price } : {}),
    ...(minToWin !== undefined ? { minToWin } : {}),
    ...(name === 'loss' && lossReason !== undefined ? { lossReason } : {}),
  };
  const event: OutcomeEvent = {
    type: 'outcome', v: 1, id: crypto.randomUUID(), ts: now, receivedAt: now, name, decisionId: q.d,
    ...(q.u ? { visitor: hashVisitor(q.u) } : {}),
    ...(q.imp ? { slot: q.imp } : {}),
    variant: q.cr ? `${q.c}/${q.cr}` : q.c,
    ...(price !== undefined ? { value: price, currency } : {}),
    auction,
    props: { campaign: q.c, ...(ourBid !== undefined ? { bid: ourBid } : {}), ...(q.pub ? { pub: q.pub } : {}), ...(real(q.auc) ? { auctionId: q.auc! } : {}) },
  };
  const store = storeOptions(c, now);
  const work: Promise<unknown>[] = [sendToLog(c.env.EVENTS, [event])];
  if (name !== 'loss') {
    // the clearing price, or our own bid when the exchange did not expand the macro (first price)
    const cpm = price ?? ourBid;
    if (cpm !== undefined) {
      const rates = await fxRates(c.env.MODELS, store);
      const cost = (convert(rates, cpm, currency, CAMPAIGN_CURRENCY) ?? cpm) / 1000;
      const stub = c.env.CAMPAIGN_LEDGER.get(c.env.CAMPAIGN_LEDGER.idFromName(q.c));
      work.push(stub.record({ decisionId: q.d, ts: now, cost, user: q.u ?? null }).then((fresh) => {
        if (fresh) addLocalSpend(q.c, cost, now);
      }));
    }
  }
  try {
    await Promise.all(work);
  } catch (err) {
    console.error(JSON.stringify({ msg: 'notice not recorded', name, decision: q.d, error: String(err) }));
    throw new HttpError(503, 'unavailable', 'notice could not be recorded; retry');
  }
  if (name === 'win' && q.cr) {
    const list = await campaigns(c.env.MODELS, store);
    const creative = list.find((x) => x.id === q.c)?.creatives.find((x) => x.id === q.cr);
    if (creative) {
      const markup = expandMacros(creative.adm, {
        AUCTION_PRICE: price ?? '', AUCTION_MIN_TO_WIN: minToWin ?? '', AUCTION_CURRENCY: currency,
        AUCTION_BID_ID: q.d, AUCTION_IMP_ID: q.imp ?? '', AUCTION_AD_ID: q.cr, AUCTION_ID: real(q.auc) ?? '',
      });
      return c.body(markup, 200, { 'content-type': 'text/html; charset=utf-8' });
    }
  }
  return c.body(null, 204);
}

export const noticeRoutes = new Hono<AppEnv>();
for (const name of ['win', 'billing', 'loss'] as const) {
  noticeRoutes.get(`/openrtb2/${name}`, (c) => notice(c, name));
  noticeRoutes.post(`/openrtb2/${name}`, (c) => notice(c, name));
}
