/**
 * Signed cookies (the visitor profile, the admin page's session): `payload.signature`, the
 * signature 128 bits of HMAC-SHA256 in base64url, computed synchronously by the core
 * (mac-text.ts, the same HMAC that signs notice URLs). The signatures are byte for byte those of
 * the WebCrypto signer this replaced (test/unit/signing.test.ts), so cookies in flight stay valid.
 */
import { base64Url, sameText, signText } from '../../core/mac-text.ts';
import { utf8Encode } from '../../core/utf8.ts';

const SIG_BYTES = 16; // 128-bit truncated HMAC-SHA256: plenty against forgery, half the cookie bytes

const decoder = new TextDecoder(); // one per isolate

/** Text → base64url of its UTF-8: cookie-safe without %-escaping's threefold growth. */
export function encodeCookieText(text: string): string {
  const bytes = utf8Encode(text);
  return base64Url(bytes, 0, bytes.length);
}

export function decodeCookieText(value: string): string | null {
  try {
    const bin = atob(value.replace(/-/g, '+').replace(/_/g, '/'));
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
