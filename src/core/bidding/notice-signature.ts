/**
 * Notice URLs are signed: a win or billing notice books spend and counts toward frequency caps,
 * so anyone able to forge one could drain a campaign's budget or skew the shading curves. The
 * signature is a piece of an HMAC-SHA256 (keyed with the Worker's SIGNING_SECRET) of our own query prefix, exactly
 * as we wrote it, a different piece for each notice kind: exchanges substitute macros after it
 * and never re-encode it (our values are encoded strictly, so no URL parser re-escapes them
 * either), so the notice carries the signed bytes back verbatim, `…?<our params>&s=<sig>&price=…`.
 *
 * Only the signed prefix is trusted. What follows the signature is the exchange's, so a reader
 * takes our fields (decision, campaign, user, our bid) from the prefix alone and only macro
 * values from after it: otherwise `…&s=<sig>&c=other` would let anyone holding one notice URL
 * re-point it at another campaign (query readers keep the last of repeated names).
 *
 * The signed prefix names the exchange the bid was made for (`x=`, exchange-keys.ts), so a
 * notice is booked against that exchange and cannot be moved to another. Notices signed before
 * exchanges were configured name none: they verify as they always did (the MAC is the same,
 * over a prefix without `x`), count for `UNKNOWN_EXCHANGE`, and run out with the 30 days
 * notices are taken for; the bidder no longer writes that form.
 */
import { hmacSha256 } from '../hmac-sha256.ts';
import { base64Url, sameText, secretKey } from '../mac-text.ts';

const PREFIX = 'notice|';

/**
 * The MAC is HMAC-SHA256 computed here, synchronously (core/hmac-sha256.ts, WebCrypto's numbers):
 * a bid response signs every bid, and WebCrypto's one promise per signature cost a fifth of a
 * 5-imp bid's time budget. The secret's key is computed once (mac-text.ts `secretKey`).
 */
const mac = new Uint8Array(32);

/**
 * The MAC cut into one base64url piece per notice kind: none can be computed from another
 * (each is its own slice), so a URL signed for one use cannot be turned into another. Three
 * pieces of an HMAC-SHA256 are 80 bits each.
 */
function pieces(secret: string, query: string): string[] {
  hmacSha256(secretKey(secret), PREFIX + query, mac);
  const size = Math.floor(mac.length / NOTICE_KINDS.length);
  return NOTICE_KINDS.map((_, i) => base64Url(mac, i * size, (i + 1) * size));
}

/**
 * Each notice kind has its own signature, a piece of one MAC of the query: a loss URL (which
 * anyone watching the auction may see) cannot be turned into a win that books spend.
 */
export const NOTICE_KINDS = ['win', 'billing', 'loss'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/** What the bidder signs a bid's URLs with (`BidderInput.signer`). */
export interface NoticeSigner {
  /** the signatures of a notice query, one per kind, in NOTICE_KINDS order */
  readonly notices: (query: string) => readonly string[];
  /** the click tracker's signature of the same query (its own MAC: a click URL is public) */
  readonly click: (query: string) => string;
}

export function noticeSigner(secret: string): NoticeSigner {
  return { notices: (query) => pieces(secret, query), click: (query) => clickSignature(secret, query) };
}

const clickMac = new Uint8Array(32);

/** 128 bits of the HMAC of `click|<query>`: a click URL sits in the page, where anyone can copy it. */
export function clickSignature(secret: string, query: string): string {
  return base64Url(hmacSha256(secretKey(secret), `click|${query}`, clickMac), 0, 16);
}

export function verifyClick(secret: string, parts: NoticeParts): boolean {
  return parts.signature !== null && sameText(clickSignature(secret, parts.signed), parts.signature);
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
export function verifyNotice(secret: string, parts: NoticeParts, kind: NoticeKind): boolean {
  if (parts.signature === null) return false;
  return sameText(pieces(secret, parts.signed)[NOTICE_KINDS.indexOf(kind)]!, parts.signature);
}
