/**
 * MACs as text, for everything the Worker signs (notice and click URLs, exchange path tokens,
 * profile cookies, the admin session): base64url without padding, compared in constant time.
 * The MAC is HMAC-SHA256 (hmac-sha256.ts), each secret's key computed once per isolate.
 */
import { hmacKey, hmacSha256, type HmacKey } from './hmac-sha256.ts';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url (no padding) of bytes [from, to) of `b` */
export function base64Url(b: Uint8Array, from: number, to: number): string {
  let s = '';
  let i = from;
  for (; i + 3 <= to; i += 3) {
    const v = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    s += B64[v >>> 18]! + B64[(v >>> 12) & 63]! + B64[(v >>> 6) & 63]! + B64[v & 63]!;
  }
  if (to - i === 1) s += B64[b[i]! >>> 2]! + B64[(b[i]! & 3) << 4]!;
  else if (to - i === 2) {
    const v = (b[i]! << 8) | b[i + 1]!;
    s += B64[v >>> 10]! + B64[(v >>> 4) & 63]! + B64[(v & 15) << 2]!;
  }
  return s;
}

/**
 * Whether two texts are equal, in time that depends only on their lengths, not on where they
 * differ: the one comparison of signatures and tokens.
 */
export function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * A Worker has a few secrets (the signing secret, the admin token), each used on many requests:
 * their HMAC keys (inner and outer pad states) are computed once. Bounded all the same: a secret
 * changed at run time (or a test's) must not grow it.
 */
const keys = new Map<string, HmacKey>();
const MAX_KEYS = 16;

export function secretKey(secret: string): HmacKey {
  let key = keys.get(secret);
  if (key === undefined) {
    if (keys.size >= MAX_KEYS) keys.clear();
    keys.set(secret, (key = hmacKey(secret)));
  }
  return key;
}

const mac = new Uint8Array(32); // a call never yields: one buffer per isolate

/** The first `bytes` of HMAC-SHA256(secret, message), base64url. */
export function signText(secret: string, message: string, bytes: number): string {
  return base64Url(hmacSha256(secretKey(secret), message, mac), 0, bytes);
}
