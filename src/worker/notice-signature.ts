/**
 * Notice URLs are signed: a win or billing notice books spend and counts toward frequency caps,
 * so anyone able to forge one could drain a campaign's budget or skew the shading curves. The
 * signature is an HMAC (the Worker's PROFILE_SECRET) of our own query prefix, exactly as we wrote
 * it: exchanges substitute macros after it and never re-encode it, so the notice carries the
 * signed bytes back verbatim, `…?<our params>&s=<sig>&price=…`.
 */
import type { BidderOutput } from '../core/bidding/bidder.ts';
import { sign, timingSafeEqualText } from './crypto.ts';

const PREFIX = 'notice|';

/** Inserts `&s=<sig>` after our params in every bid's nurl, burl and lurl. */
export async function signNotices(secret: string, out: BidderOutput): Promise<void> {
  const bids = out.response?.seatbid?.flatMap((s) => s.bid) ?? [];
  await Promise.all(out.decisions.map(async (d) => {
    const sig = await sign(secret, PREFIX + d.noticeQuery);
    const bid = bids.find((b) => b.id === d.decisionId);
    if (!bid) return;
    const from = `?${d.noticeQuery}&`;
    const to = `?${d.noticeQuery}&s=${sig}&`;
    if (bid.nurl) bid.nurl = bid.nurl.replace(from, to);
    if (bid.burl) bid.burl = bid.burl.replace(from, to);
    if (bid.lurl) bid.lurl = bid.lurl.replace(from, to);
  }));
}

/** Whether the notice's raw query (without `?`) carries a valid signature of its own prefix. */
export async function verifyNotice(secret: string, rawQuery: string): Promise<boolean> {
  const at = rawQuery.indexOf('&s=');
  if (at <= 0) return false;
  const end = rawQuery.indexOf('&', at + 3);
  const given = rawQuery.slice(at + 3, end === -1 ? rawQuery.length : end);
  return timingSafeEqualText(await sign(secret, PREFIX + rawQuery.slice(0, at)), given);
}
