/**
 * The exchanges the bidder answers, from the `EXCHANGE_KEYS` secret:
 * `exchangeId:key[,exchangeId:key…]`. A bid request proves which exchange sent it with its key
 * (`Authorization: Bearer <key>`), or, for an exchange that cannot set headers, with a path
 * token derived from its key (`POST /openrtb2/bid/<exchangeId>/<token>`). Anyone else gets no
 * bid at all: every bid carries signed notice URLs that book spend when called, so answering
 * strangers would hand them a campaign's budget.
 *
 * The path token is `base64url(HMAC-SHA256(key, "openrtb-path|<exchangeId>"))`, 128 bits. A URL
 * is written into the exchange's configuration screens and into access logs (theirs, any proxy's,
 * ours), so the key itself never goes into one: a leaked URL gives away only the path form of
 * that exchange, and rotating the exchange's key rotates its token. The header is still the
 * better place: it stays out of logs by default.
 *
 * An exchange may be listed twice with two keys while its key is rotated. Entries that cannot be
 * used (no `:`, a bad id, a key under 16 characters, a key already given to another exchange)
 * are refused one by one and reported by position, never by value.
 */
import { EXAMPLE_SECRETS } from '../secret-strength.ts';
import { hmacKey, hmacSha256, type HmacKey } from '../hmac-sha256.ts';
import { base64Url, sameText } from '../mac-text.ts';

/** What an exchange id may be: it is written into notice URLs and paths as is. */
export const EXCHANGE_ID = /^[A-Za-z0-9._-]{1,32}$/;
export const MIN_KEY_LENGTH = 16;
/**
 * The exchange of a notice signed before exchanges were configured (its URL names none): such
 * notices stay valid until they expire (30 days after their bid) and are booked against this.
 */
export const UNKNOWN_EXCHANGE = 'unknown';

interface KeyEntry {
  readonly exchange: string;
  /** HMAC of the key under a fixed key: every comparison is of 32 bytes, whatever the lengths */
  readonly digest: Uint8Array;
  readonly pathToken: string;
}

export interface ExchangeKeys {
  readonly entries: readonly KeyEntry[];
  /** why entries were refused, by position (1-based); never the key */
  readonly problems: readonly string[];
}

/** Built on first use: only an isolate that checks exchange keys needs it. */
let digestKey: HmacKey | undefined;
const digestOf = (): HmacKey => (digestKey ??= hmacKey('attune exchange key digest'));

/** The path token of an exchange's key (`POST /openrtb2/bid/<exchangeId>/<token>`). */
export function pathToken(key: string, exchange: string): string {
  const mac = hmacSha256(hmacKey(key), `openrtb-path|${exchange}`);
  return base64Url(mac, 0, 16);
}

export function parseExchangeKeys(raw: string | undefined): ExchangeKeys {
  const entries: KeyEntry[] = [];
  const problems: string[] = [];
  const parts = (raw ?? '').split(',');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!.trim();
    if (part === '') continue; // a trailing comma, or an unset secret
    const colon = part.indexOf(':');
    const id = colon === -1 ? '' : part.slice(0, colon).trim();
    const key = colon === -1 ? '' : part.slice(colon + 1).trim();
    const at = `entry ${i + 1}`;
    if (colon === -1) problems.push(`${at}: not exchangeId:key`);
    else if (!EXCHANGE_ID.test(id)) problems.push(`${at}: the exchange id must be 1-32 of A-Z a-z 0-9 . _ -`);
    else if (id === UNKNOWN_EXCHANGE) problems.push(`${at}: "${UNKNOWN_EXCHANGE}" is reserved (old notices are booked against it)`);
    else if (EXAMPLE_SECRETS.has(key)) problems.push(`${at} (${id}): the example key from .dev.vars.example; anyone could bid with it`);
    else if (key.length < MIN_KEY_LENGTH || /\s/.test(key))
      problems.push(`${at} (${id}): the key must be at least ${MIN_KEY_LENGTH} characters, no spaces`);
    else {
      const digest = hmacSha256(digestOf(), key);
      const clash = entries.find((e) => sameBytes(e.digest, digest));
      if (clash !== undefined && clash.exchange !== id)
        problems.push(`${at} (${id}): the same key as ${clash.exchange}; which exchange would it be?`);
      else if (clash === undefined) entries.push({ exchange: id, digest, pathToken: pathToken(key, id) });
    }
  }
  return { entries, problems };
}

const presented = new Uint8Array(32);

/** The exchange whose key this is, or null. Every key is compared, in full: no early exit. */
export function exchangeOfKey(keys: ExchangeKeys, key: string): string | null {
  hmacSha256(digestOf(), key, presented);
  let found: string | null = null;
  for (const e of keys.entries) if (sameBytes(e.digest, presented)) found = e.exchange;
  return found;
}

/** Whether `token` is the path token of one of `exchange`'s keys; every entry is compared. */
export function pathTokenValid(keys: ExchangeKeys, exchange: string, token: string): boolean {
  let ok = false;
  for (const e of keys.entries) ok = (sameText(e.pathToken, token) && e.exchange === exchange) || ok;
  return ok;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
