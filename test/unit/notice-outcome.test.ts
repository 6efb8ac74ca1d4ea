/** What a notice means (src/core/bidding/notice-outcome.ts), without the route's I/O. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RATES } from '../../src/core/bidding/currency.ts';
import { NOTICE_MAX_AGE_S, noticeExpired, noticeOutcome, type SignedNotice } from '../../src/core/bidding/notice-outcome.ts';
import { hashVisitor } from '../../src/core/decision-record.ts';

const NOW = Date.UTC(2026, 10, 23, 12);
const Q: SignedNotice = {
  d: 'dec-1',
  c: 'camp',
  cr: 'cr-1',
  imp: '1',
  bid: '2.5',
  bc: 'USD',
  t: String(NOW / 1000 - 60),
  pub: 'pub-7',
  u: 'uk',
  x: 'adx',
};
const notes = (o: { notes: readonly { msg: string }[] }) => o.notes.map((n) => n.msg);

describe('noticeOutcome', () => {
  it('books a win at the clearing price, in the campaign currency, once per bid and kind', () => {
    const o = noticeOutcome('win', Q, { price: '1.8', mtw: '1.7', cur: 'USD', auc: 'auction-9' }, DEFAULT_RATES, NOW);
    expect(o.cost).toBeCloseTo(0.0018, 12);
    expect(o.exchange).toBe('adx');
    expect(o.event).toEqual({
      type: 'outcome',
      v: 1,
      id: 'win:dec-1',
      ts: NOW,
      receivedAt: NOW,
      name: 'win',
      decisionId: 'dec-1',
      visitor: hashVisitor('uk'),
      slot: '1',
      variant: 'camp/cr-1',
      value: 1.8,
      currency: 'USD',
      auction: { price: 1.8, minToWin: 1.7 },
      exchange: 'adx',
      props: { campaign: 'camp', bid: 2.5, pub: 'pub-7', auctionId: 'auction-9' },
    });
    expect(o.macros).toEqual({
      AUCTION_PRICE: 1.8,
      AUCTION_MIN_TO_WIN: 1.7,
      AUCTION_CURRENCY: 'USD',
      AUCTION_BID_ID: 'dec-1',
      AUCTION_IMP_ID: '1',
      AUCTION_AD_ID: 'cr-1',
      AUCTION_ID: 'auction-9',
    });
    expect(o.notes).toEqual([]);
  });

  it('books at most our bid, and says so only past rounding', () => {
    const rounded = noticeOutcome('billing', Q, { price: '2.51' }, DEFAULT_RATES, NOW);
    expect(rounded.cost).toBeCloseTo(0.0025, 12);
    expect(rounded.event.value).toBe(2.5);
    expect(notes(rounded)).toEqual([]);
    const inflated = noticeOutcome('win', Q, { price: '25' }, DEFAULT_RATES, NOW);
    expect(inflated.cost).toBeCloseTo(0.0025, 12);
    expect(notes(inflated)).toEqual(['notice: price above our bid, booked at our bid']);
  });

  it('drops a negative price (a win then costs our bid) and a negative minimum to win', () => {
    const o = noticeOutcome('win', Q, { price: '-1', mtw: '-3' }, DEFAULT_RATES, NOW);
    expect(o.cost).toBeCloseTo(0.0025, 12);
    expect(o.event.auction).toEqual({});
    expect(o.event.value).toBeUndefined();
    expect(notes(o)).toEqual(['notice: negative price dropped']);
  });

  it("costs our bid when the exchange left the price macro unexpanded, and keeps a loss's winning price above ours", () => {
    const unexpanded = noticeOutcome('win', Q, { price: '${AUCTION_PRICE}', auc: '${AUCTION_ID}' }, DEFAULT_RATES, NOW);
    expect(unexpanded.cost).toBeCloseTo(0.0025, 12);
    expect(unexpanded.event.props).toEqual({ campaign: 'camp', bid: 2.5, pub: 'pub-7' });
    expect(unexpanded.macros.AUCTION_PRICE).toBe('');
    const loss = noticeOutcome('loss', Q, { price: '4', reason: '102' }, DEFAULT_RATES, NOW);
    expect(loss.cost).toBeNull();
    expect(loss.event).toMatchObject({ id: 'loss:dec-1', name: 'loss', value: 4, auction: { price: 4, lossReason: 102 } });
    expect(noticeOutcome('win', Q, { reason: '102' }, DEFAULT_RATES, NOW).event.auction).toEqual({});
  });

  it("reads prices in the exchange's currency, or in the bid's when it names one without a rate", () => {
    const eur = noticeOutcome('win', { ...Q, bid: '2' }, { price: '0.92', cur: 'eur' }, DEFAULT_RATES, NOW);
    expect(eur.event.value).toBeCloseTo(1, 9); // 0.92 EUR is 1 USD
    const bidInEur = noticeOutcome('win', { ...Q, bid: '2', bc: 'EUR' }, { price: '0.92' }, DEFAULT_RATES, NOW);
    expect(bidInEur.event.value).toBeCloseTo(1, 9);
    expect(bidInEur.event.props).toMatchObject({ bid: expect.closeTo(2 / 0.92, 9), bidCurrency: 'EUR' });
    expect(bidInEur.macros.AUCTION_CURRENCY).toBe('EUR');
    const unknown = noticeOutcome('win', Q, { price: '1', cur: 'XYZ' }, DEFAULT_RATES, NOW);
    expect(unknown.event.value).toBe(1);
    expect(notes(unknown)).toEqual(["notice: unknown currency, read as the bid's"]);
  });

  it('books a bid in a currency without a rate as it is, and says so once', () => {
    const o = noticeOutcome('win', { ...Q, bc: 'XYZ' }, { price: '2', mtw: '1' }, DEFAULT_RATES, NOW);
    expect(o.cost).toBeCloseTo(0.002, 12);
    expect(o.event).toMatchObject({ value: 2, auction: { price: 2, minToWin: 1 }, props: { bid: 2.5, bidCurrency: 'XYZ' } });
    expect(notes(o)).toEqual(['notice: no rate for the bid currency, booked as is']);
  });

  it('counts a notice signed before exchanges were named for `unknown`, and leaves out what it does not carry', () => {
    const o = noticeOutcome('billing', { d: 'd', c: 'c', bc: 'USD', t: '1' }, {}, DEFAULT_RATES, NOW);
    expect(o.exchange).toBe('unknown');
    expect(o.cost).toBeNull();
    expect(o.event).toEqual({
      type: 'outcome',
      v: 1,
      id: 'billing:d',
      ts: NOW,
      receivedAt: NOW,
      name: 'billing',
      decisionId: 'd',
      variant: 'c',
      auction: {},
      exchange: 'unknown',
      props: { campaign: 'c' },
    });
  });
});

describe('noticeExpired', () => {
  it(`takes notices for ${NOTICE_MAX_AGE_S / 86_400} days after the bid`, () => {
    const t = NOW / 1000;
    expect(noticeExpired(String(t), NOW)).toBe(false);
    expect(noticeExpired(String(t - NOTICE_MAX_AGE_S), NOW)).toBe(false);
    expect(noticeExpired(String(t - NOTICE_MAX_AGE_S - 1), NOW)).toBe(true);
  });
});
