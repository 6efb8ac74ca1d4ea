/**
 * Signed cookies (the visitor profile, the admin page's session): `payload.signature`, the
 * signature 128 bits of HMAC-SHA256 in base64url, computed synchronously by the core
 * (mac-text.ts, the same HMAC that signs notice URLs). The signatures are byte for byte those of
 * the WebCrypto signer this replaced (test/unit/signing.test.ts), so cookies in flight stay valid.
 */
import { base64Url, sameText, signText } from '../../core/mac-text.ts';
import { isAscii, utf8Encode } from '../../core/utf8.ts';

const SIG_BYTES = 16; // 128-bit truncated HMAC-SHA256: plenty against forgery, half the cookie bytes

const decoder = new TextDecoder(); // one per isolate

// A profile's text is nearly always ASCII, which is its own UTF-8 (and Latin-1): then the
// platform's btoa/atob do the work of the loops, on every decision's cookie.

/** Text → base64url of its UTF-8: cookie-safe without %-escaping's threefold growth. */
export function encodeCookieText(text: string): string {
  if (isAscii(text)) {
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
    if (isAscii(bin)) return bin;
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

/** `payload.signature` → payload when the signature is ours, else null. */
export function verifySigned(secret: string, signed: string): string | null {
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return null;
  const payload = signed.slice(0, dot);
  return sameText(sign(secret, payload), signed.slice(dot + 1)) ? payload : null;
}
