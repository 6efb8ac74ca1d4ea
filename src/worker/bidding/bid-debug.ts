/**
 * Test and debug bid requests (docs/bidding.md, "Test and debug requests"):
 *
 * - OpenRTB `test: 1` is a test auction, not billable (§3.2.1): its bids reserve nothing, are
 *   not logged as decisions (they would train the models on traffic that is not real), and
 *   their notice and click URLs carry `test=1`, signed, so nothing they trigger books spend,
 *   counts toward pacing or a frequency cap, or enters the log.
 * - `test: 1` or `ext.attune.debug: true` asks for the bidder's explanation (core/bidding/
 *   bid-trace.ts) in the answer's `ext.debug`, and a 200 with `seatbid: []` where the answer
 *   would be a 204. It is given to the exchanges DEBUG_EXCHANGES names, only: it shows what our
 *   campaigns would pay, and an exchange that knew that could set its floors just under it.
 *   Others get the ordinary answer (and a test request is still a test).
 */
import type { BidRequest, BidResponse } from 'iab-openrtb/v26';
import type { BidTrace } from '../../core/bidding/bid-trace.ts';
import { settings } from '../shared/settings.ts';
import type { AppContext } from '../shared/types.ts';

export const isTest = (req: BidRequest): boolean => req.test === 1;

/** Whether the request asks for an explanation and its exchange may have one. */
export function explainFor(c: AppContext, req: BidRequest, exchange: string): boolean {
  const ext = req.ext as { attune?: { debug?: unknown } } | undefined;
  if (!isTest(req) && ext?.attune?.debug !== true) return false;
  const allowed = settings(c.env).debugExchanges;
  return allowed === '*' || allowed.includes(exchange);
}

/** The answer's `ext.debug`. */
export interface DebugReport {
  /** a test request: nothing it leads to is booked or logged */
  readonly test: boolean;
  readonly exchange: string;
  /** the response currency (the bidder's; absent when it stopped before choosing one) */
  readonly currency?: string;
  /** why nothing was bid (what `x-attune-nobid` says on a 204) */
  readonly nobid?: string;
  /** campaigns that were active when the request came */
  readonly campaigns: number;
  readonly fallbacks?: readonly string[];
  /** campaigns out for the whole request, then each imp: every campaign's result, and how the bid's price was made */
  readonly request: BidTrace['request'];
  readonly imps: BidTrace['imps'];
}

export function debugReport(
  test: boolean,
  exchange: string,
  campaigns: number,
  trace: BidTrace | null,
  more: { currency?: string; nobid?: string; fallbacks?: readonly string[] } = {},
): DebugReport {
  return {
    test,
    exchange,
    ...(more.currency !== undefined ? { currency: more.currency } : {}),
    ...(more.nobid !== undefined ? { nobid: more.nobid } : {}),
    campaigns,
    ...(more.fallbacks !== undefined && more.fallbacks.length > 0 ? { fallbacks: more.fallbacks } : {}),
    request: trace?.request ?? [],
    imps: trace?.imps ?? [],
  };
}

/** A debug request's no-bid: 200, no seat bids, the explanation (`x-attune-nobid` too, as on a 204). */
export function debugNoBid(req: BidRequest, report: DebugReport): BidResponse {
  return { id: req.id, seatbid: [], ext: { debug: report } };
}
