/**
 * What a win, billing or loss notice means, computed without I/O (the notice route does the
 * I/O: the log, the ledger, the markup): the outcome event for the log, the spend to book, and
 * the auction macros of the creative's markup.
 *
 * Prices arrive in the exchange's currency (`${AUCTION_CURRENCY}`), or, when it withholds it
 * (or names one we have no rate for), in the bid's, which the signed query names; everything
 * is booked and logged in the campaign currency. What we pay (win, billing) is at most our bid:
 * an exchange that rounds up a cent, or someone inflating a genuine URL, gets our bid. A
 * negative price or minimum to win means nothing and is dropped (a win then costs our bid). A
 * loss notice's price is the winner's, above ours. Refusing instead would lose the notice:
 * exchanges do not retry a 4xx.
 */
import { hashVisitor } from '../decision-record.ts';
import type { OutcomeEvent } from '../outcome-event.ts';
import { CAMPAIGN_CURRENCY } from './campaign.ts';
import { convert, type RatesTable } from './currency.ts';
import { UNKNOWN_EXCHANGE } from './exchange-keys.ts';
import { macroNumber, type Macro } from './macros.ts';
import type { NoticeKind } from './notice-signature.ts';

/**
 * How old a notice may be. The ledger keeps a bid's row 31 days (campaign-ledger.ts): an older
 * notice could book the same bid a second time, so it is refused.
 */
export const NOTICE_MAX_AGE_S = 30 * 86_400;

/** Whether a notice (or click) of a bid made at `seconds` (the signed `t`) is too old to count at `now` (ms). */
export const noticeExpired = (seconds: string | number, now: number): boolean => now / 1000 - Number(seconds) > NOTICE_MAX_AGE_S;

/** Our fields, from the signed prefix of the notice's query (bid-response.ts writes them). */
export interface SignedNotice {
  /** decision, campaign, creative, imp */
  readonly d: string;
  readonly c: string;
  readonly cr?: string | undefined;
  readonly imp?: string | undefined;
  /** our bid (CPM, in `bc`) */
  readonly bid?: string | undefined;
  /** the currency the bid was made in, and when (seconds since epoch) */
  readonly bc: string;
  readonly t: string;
  readonly pub?: string | undefined;
  /** the user key (a hash) */
  readonly u?: string | undefined;
  /** the exchange; absent in notices signed before exchanges were configured */
  readonly x?: string | undefined;
}

/** The exchange's macro values, after the signature. */
export interface NoticeMacros {
  readonly price?: string | undefined;
  readonly mtw?: string | undefined;
  readonly cur?: string | undefined;
  readonly reason?: string | undefined;
  readonly auc?: string | undefined;
}

/** Something worth a log line, for the route to write. */
export interface NoticeNote {
  readonly msg: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface NoticeOutcome {
  /** the outcome for the log; one id per bid and notice kind, so retries and replays are one event */
  readonly event: OutcomeEvent;
  /** the exchange the bid was made for (`unknown` for notices signed before exchanges were named) */
  readonly exchange: string;
  /** the spend to book in the campaign's ledger (campaign currency, the CPM / 1000); null for a loss, or a win without price or bid */
  readonly cost: number | null;
  /** the auction macros of the creative's markup, for a win notice that serves it */
  readonly macros: Partial<Record<Macro, string | number>>;
  readonly notes: readonly NoticeNote[];
}

/** A macro value the exchange expanded (an unexpanded `${…}` is no value). */
const real = (s: string | undefined) => (s === undefined || s.includes('${') ? undefined : s);

export function noticeOutcome(kind: NoticeKind, q: SignedNotice, m: NoticeMacros, rates: RatesTable, now: number): NoticeOutcome {
  const notes: NoticeNote[] = [];
  const bidCurrency = q.bc;
  const said = real(m.cur)?.toUpperCase();
  const priceCurrency = said && convert(rates, 1, said, bidCurrency) !== null ? said : bidCurrency;
  if (said && priceCurrency !== said)
    notes.push({ msg: "notice: unknown currency, read as the bid's", fields: { decision: q.d, currency: said, bid: bidCurrency } });
  const inBidCurrency = (x: number | undefined) => (x === undefined ? undefined : (convert(rates, x, priceCurrency, bidCurrency) ?? x));
  let noRate = false;
  const toCampaign = (x: number) => {
    const v = convert(rates, x, bidCurrency, CAMPAIGN_CURRENCY);
    if (v === null && !noRate) {
      noRate = true;
      notes.push({ msg: 'notice: no rate for the bid currency, booked as is', fields: { decision: q.d, currency: bidCurrency } });
    }
    return v ?? x;
  };

  const ourBid = macroNumber(q.bid);
  const price = bookedPrice(kind, inBidCurrency(macroNumber(m.price)), ourBid, q.d, notes);
  const rawMinToWin = inBidCurrency(macroNumber(m.mtw));
  const minToWin = rawMinToWin !== undefined && rawMinToWin >= 0 ? rawMinToWin : undefined;
  const lossReason = macroNumber(m.reason);
  const auctionId = real(m.auc);
  const exchange = q.x ?? UNKNOWN_EXCHANGE;
  const event: OutcomeEvent = {
    type: 'outcome',
    v: 1,
    id: `${kind}:${q.d}`,
    ts: now,
    receivedAt: now,
    name: kind,
    decisionId: q.d,
    ...(q.u ? { visitor: hashVisitor(q.u) } : {}),
    ...(q.imp ? { slot: q.imp } : {}),
    variant: q.cr ? `${q.c}/${q.cr}` : q.c,
    ...(price !== undefined ? { value: toCampaign(price), currency: CAMPAIGN_CURRENCY } : {}),
    auction: {
      ...(price !== undefined ? { price: toCampaign(price) } : {}),
      ...(minToWin !== undefined ? { minToWin: toCampaign(minToWin) } : {}),
      ...(kind === 'loss' && lossReason !== undefined ? { lossReason } : {}),
    },
    exchange,
    props: {
      campaign: q.c,
      ...(ourBid !== undefined ? { bid: toCampaign(ourBid) } : {}),
      ...(bidCurrency !== CAMPAIGN_CURRENCY ? { bidCurrency } : {}),
      ...(q.pub ? { pub: q.pub } : {}),
      ...(auctionId ? { auctionId } : {}),
    },
  };
  // the clearing price, or our own bid when the exchange did not expand the macro (first price)
  const cpm = kind === 'loss' ? undefined : (price ?? ourBid);
  return {
    event,
    exchange,
    cost: cpm === undefined ? null : toCampaign(cpm) / 1000,
    macros: {
      AUCTION_PRICE: price ?? '',
      AUCTION_MIN_TO_WIN: minToWin ?? '',
      AUCTION_CURRENCY: bidCurrency,
      AUCTION_BID_ID: q.d,
      AUCTION_IMP_ID: q.imp ?? '',
      AUCTION_AD_ID: q.cr ?? '',
      AUCTION_ID: auctionId ?? '',
    },
    notes,
  };
}

/** The price to book, in the bid currency (the rules at the top). */
function bookedPrice(
  kind: NoticeKind,
  price: number | undefined,
  ourBid: number | undefined,
  decision: string,
  notes: NoticeNote[],
): number | undefined {
  if (price === undefined) return undefined;
  if (price < 0) {
    notes.push({ msg: 'notice: negative price dropped', fields: { decision, price } });
    return undefined;
  }
  if (kind !== 'loss' && ourBid !== undefined && price > ourBid) {
    if (price > ourBid * 1.01 + 0.01)
      notes.push({ msg: 'notice: price above our bid, booked at our bid', fields: { decision, price, bid: ourBid } });
    return ourBid;
  }
  return price;
}
