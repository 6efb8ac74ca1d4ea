/** HMAC signing and constant-time comparison for cookies and admin tokens. */

const encoder = new TextEncoder(); // one per isolate
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (key === undefined) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    keys.set(secret, key);
  }
  return key;
}

/** Compares in time that depends only on the lengths, not on where the inputs differ. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a[i % (a.length || 1)] ?? 0) ^ (b[i % (b.length || 1)] ?? 0);
  return diff === 0;
}

export function timingSafeEqualText(a: string, b: string): boolean {
  return timingSafeEqual(encoder.encode(a), encoder.encode(b));
}

const SIG_BYTES = 16; // 128-bit truncated HMAC-SHA256: plenty against forgery, half the cookie bytes

const decoder = new TextDecoder();

function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Text → base64url of its UTF-8: cookie-safe without %-escaping's threefold growth. */
export function encodeCookieText(text: string): string {
  return toBase64Url(encoder.encode(text));
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

export async function sign(secret: string, payload: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(payload)));
  return toBase64Url(mac.subarray(0, SIG_BYTES));
}

/** `payload.signature` → payload when the signature is ours, else null. */
export async function verifySigned(secret: string, signed: string): Promise<string | null> {
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return null;
  const payload = signed.slice(0, dot);
  const expected = await sign(secret, payload);
  return timingSafeEqualText(expected, signed.slice(dot + 1)) ? payload : null;
}
