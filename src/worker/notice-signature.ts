/**
 * Notice URLs are signed: a win or billing notice books spend and counts toward frequency caps,
 * so anyone able to forge one could drain a campaign's budget or skew the shading curves. The
 * signature is an HMAC (the Worker's PROFILE_SECRET) of our own query prefix, exactly as we wrote
 * it: exchanges substitute macros after it and never re-encode it, so the notice carries the
 * signed bytes back verbatim, `…?<our params>&s=<sig>&price=…`.
 *
 * Only the signed prefix is trusted. What follows the signature is the exchange's, so a reader
 * takes our fields (decision, campaign, user, our bid) from the prefix alone and only macro
 * values from after it: otherwise `…&s=<sig>&c=other` would let anyone holding one notice URL
 * re-point it at another campaign (query readers keep the last of repeated names).
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

/** A notice's raw query split at its signature: `signed` and `after` exclude the `s` pair. */
export interface NoticeParts {
  readonly signed: string;
  readonly signature: string | null;
  readonly after: string;
}

export function splitNotice(rawQuery: string): NoticeParts {
  const at = rawQuery.indexOf('&s=');
  if (at <= 0) return { signed: rawQuery, signature: null, after: '' };
  const end = rawQuery.indexOf('&', at + 3);
  return {
    signed: rawQuery.slice(0, at),
    signature: rawQuery.slice(at + 3, end === -1 ? rawQuery.length : end),
    after: end === -1 ? '' : rawQuery.slice(end + 1),
  };
}

/** Whether the notice carries a valid signature of its prefix. */
export async function verifyNotice(secret: string, parts: NoticeParts): Promise<boolean> {
  if (parts.signature === null) return false;
  return timingSafeEqualText(await sign(secret, PREFIX + parts.signed), parts.signature);
}
