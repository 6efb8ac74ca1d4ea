/**
 * Signed cookies (the visitor profile, the admin page's session): `payload.signature`, the
 * signature 128 bits of HMAC-SHA256 in base64url, computed synchronously by the core
 * (mac-text.ts, the same HMAC that signs notice URLs) for callers that cannot wait (`sign`), or by
 * WebCrypto for those that can (`signAsync`). The signatures are byte for byte those of the
 * WebCrypto signer the synchronous one replaced (test/unit/signing.test.ts), so cookies in flight
 * stay valid.
 */
import { base64Url, sameText, signText } from '../../core/mac-text.ts';
import { utf8Encode } from '../../core/utf8.ts';

const SIG_BYTES = 16; // 128-bit truncated HMAC-SHA256: plenty against forgery, half the cookie bytes

const decoder = new TextDecoder(); // one per isolate

// A profile's text is nearly always ASCII, which is its own UTF-8 (and Latin-1): then the
// platform's btoa/atob do the work of the loops, on every decision's cookie.
const NON_ASCII = /[^\x00-\x7f]/;

/** Text → base64url of its UTF-8: cookie-safe without %-escaping's threefold growth. */
export function encodeCookieText(text: string): string {
  if (!NON_ASCII.test(text)) {
    const b64 = btoa(text).replaceAll('+', '-').replaceAll('/', '_');
    let end = b64.length;
    while (end > 0 && b64.charCodeAt(end - 1) === 0x3d) end--; // '=' padding: base64url has none
    return b64.slice(0, end);
  }
  const bytes = utf8Encode(text);
  return base64Url(bytes, 0, bytes.length);
}

export function decodeCookieText(value: string): string | null {
  try {
    const bin = atob(value.replace(/-/g, '+').replace(/_/g, '/'));
    if (!NON_ASCII.test(bin)) return bin;
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

export function sign(secret: string, payload: string): string {
  return signText(secret, payload, SIG_BYTES);
}

/**
 * Each secret's WebCrypto key (a Worker has a few: the signing secret, a test's), imported once;
 * bounded like mac-text.ts's keys.
 */
type HmacCryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
const cryptoKeys = new Map<string, Promise<HmacCryptoKey>>();
const encoder = new TextEncoder();

function cryptoKeyOf(secret: string): Promise<HmacCryptoKey> {
  let key = cryptoKeys.get(secret);
  if (key === undefined) {
    if (cryptoKeys.size >= 16) cryptoKeys.clear();
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    cryptoKeys.set(secret, key);
  }
  return key;
}

/**
 * `sign`'s signature, byte for byte (test/unit/signing.test.ts), computed by the platform: for a
 * caller that can wait for a promise (a visitor's profile cookie, read and written on every
 * decision) it costs a small part of the synchronous HMAC's time. A key the platform refuses (it
 * takes no empty one) is signed synchronously, to the same result.
 */
export async function signAsync(secret: string, payload: string): Promise<string> {
  let mac: ArrayBuffer;
  try {
    mac = await crypto.subtle.sign('HMAC', await cryptoKeyOf(secret), encoder.encode(payload));
  } catch {
    cryptoKeys.delete(secret);
    return sign(secret, payload);
  }
  return base64Url(new Uint8Array(mac), 0, SIG_BYTES);
}

/** `payload.signature` → payload when the signature is ours, else null. */
export function verifySigned(secret: string, signed: string): string | null {
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return null;
  const payload = signed.slice(0, dot);
  return sameText(sign(secret, payload), signed.slice(dot + 1)) ? payload : null;
}
