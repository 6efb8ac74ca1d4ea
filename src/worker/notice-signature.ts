/**
 * Notice URLs are signed: a win or billing notice books spend and counts toward frequency caps,
 * so anyone able to forge one could drain a campaign's budget or skew the shading curves. The
 * signature is a piece of an HMAC (the Worker's PROFILE_SECRET) of our own query prefix, exactly
 * as we wrote it, a different piece for each notice kind: exchanges substitute macros after it
 * and never re-encode it (our values are encoded strictly, so no URL parser re-escapes them
 * either), so the notice carries the signed bytes back verbatim, `…?<our params>&s=<sig>&price=…`.
 *
 * Only the signed prefix is trusted. What follows the signature is the exchange's, so a reader
 * takes our fields (decision, campaign, user, our bid) from the prefix alone and only macro
 * values from after it: otherwise `…&s=<sig>&c=other` would let anyone holding one notice URL
 * re-point it at another campaign (query readers keep the last of repeated names).
 */
import type { BidderOutput } from '../core/bidding/bidder.ts';
import { signPieces, timingSafeEqualText } from './crypto.ts';

const PREFIX = 'notice|';

/**
 * Each notice kind has its own signature, a piece of one MAC of the query: a loss URL (which
 * anyone watching the auction may see) cannot be turned into a win that books spend.
 */
export const NOTICE_KINDS = ['win', 'billing', 'loss'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** Inserts `&s=<sig>` after our params in every bid's nurl, burl and lurl, each its own. */
export async function signNotices(secret: string, out: BidderOutput): Promise<void> {
  const bids = out.response?.seatbid?.flatMap((s) => s.bid) ?? [];
  await Promise.all(out.decisions.map(async (d) => {
    const [win, billing, loss] = await signPieces(secret, PREFIX + d.noticeQuery, NOTICE_KINDS.length);
    const bid = bids.find((b) => b.id === d.decisionId);
    if (!bid) return;
    const from = `?${d.noticeQuery}&`;
    const to = (sig: string | undefined) => `?${d.noticeQuery}&s=${sig}&`;
    if (bid.nurl) bid.nurl = bid.nurl.replace(from, to(win));
    if (bid.burl) bid.burl = bid.burl.replace(from, to(billing));
    if (bid.lurl) bid.lurl = bid.lurl.replace(from, to(loss));
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

/** Whether the notice carries a valid signature of its prefix, for this kind of notice. */
export async function verifyNotice(secret: string, parts: NoticeParts, kind: NoticeKind): Promise<boolean> {
  if (parts.signature === null) return false;
  const pieces = await signPieces(secret, PREFIX + parts.signed, NOTICE_KINDS.length);
  return timingSafeEqualText(pieces[NOTICE_KINDS.indexOf(kind)]!, parts.signature);
}
