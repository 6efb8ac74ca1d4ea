/**
 * The Worker's cookie and admin-session signatures (src/worker/shared/signing.ts) on the core's
 * synchronous HMAC: every signature byte for byte what the WebCrypto signer before it wrote, so
 * profile cookies and admin sessions signed before the change stay valid.
 */
import { describe, expect, it } from 'vitest';
import { sameText } from '../../src/core/mac-text.ts';
import { decodeCookieText, encodeCookieText, sign, verifySigned } from '../../src/worker/shared/signing.ts';

/** The signer the Worker had before (WebCrypto, 128 bits of HMAC-SHA256, base64url without padding), as it was. */
async function webCryptoSign(secret: string, payload: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(payload)));
  let s = '';
  for (const b of mac.subarray(0, 16)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The cookie text encoder before (TextEncoder and btoa). */
function btoaCookieText(text: string): string {
  let s = '';
  for (const b of new TextEncoder().encode(text)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

let seed = 29;
const rnd = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
/** `n` characters (code points: no lone surrogates) drawn from `alphabet` */
const text = (n: number, alphabet: string) => {
  const chars = [...alphabet];
  return Array.from({ length: n }, () => chars[Math.floor(rnd() * chars.length)]).join('');
};
const ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
const WIDE = `${ASCII}éüßкл日本€😀`;

describe('cookie and session signatures', () => {
  it('are the ones signed before the change (fixed vectors, computed with the WebCrypto signer)', async () => {
    expect(await sign('test-profile-secret-0123456789abcdef', 'hello')).toBe('otlDXqJ8WiEB01nb6KuO0A');
    expect(await sign('k', '')).toBe('i7mQxAp9YcuXWXqUISUCWw');
    expect(await sign('k'.repeat(100), 'admin-ui:1893456000000')).toBe('yacrgmJerzr7_zpDCK6MlQ');
    expect(await sign('sécret-ключ', 'payload with ünïcödé ✓ and 😀')).toBe('bMWU6nOWRHfKRrRMoxeBFA');
  });

  it('equal WebCrypto on secrets of every length around the block size and payloads of every length around the padding limits', async () => {
    for (const secretLength of [1, 16, 35, 63, 64, 65, 100, 200]) {
      const secret = text(secretLength, secretLength % 2 ? ASCII : WIDE);
      for (let n = 0; n <= 260; n += n < 140 ? 1 : 30) {
        const payload = text(n, n % 3 ? ASCII : WIDE);
        expect(await sign(secret, payload), `secret ${secretLength}, payload ${n}`).toBe(await webCryptoSign(secret, payload));
      }
    }
    // two secrets in turn (the profile secret and the admin token), each its own key
    for (let i = 0; i < 4; i++) {
      expect(await sign('first secret', `p${i}`)).toBe(await webCryptoSign('first secret', `p${i}`));
      expect(await sign('second secret', `p${i}`)).toBe(await webCryptoSign('second secret', `p${i}`));
    }
  });

  it('verify what they signed and nothing altered', async () => {
    const payload = encodeCookieText('{"v":1,"visits":3}');
    const signed = `${payload}.${await sign('s3cret', payload)}`;
    expect(await verifySigned('s3cret', signed)).toBe(payload);
    expect(await verifySigned('s3cret', `${payload}.${await webCryptoSign('s3cret', payload)}`)).toBe(payload); // an old cookie
    expect(await verifySigned('other', signed)).toBeNull();
    expect(await verifySigned('s3cret', `x${signed}`)).toBeNull();
    expect(await verifySigned('s3cret', signed.slice(0, -1))).toBeNull();
    expect(await verifySigned('s3cret', 'no-signature')).toBeNull();
  });

  it('encode cookie text as before and read it back', () => {
    // 'café': Latin-1 only, which btoa takes without an error but would encode as Latin-1, not UTF-8
    for (const s of ['', 'a', 'ab', 'abc', '{"v":1}', '>>>???', 'café', 'ünïcödé ✓ 😀', text(300, ASCII), text(300, WIDE)]) {
      expect(encodeCookieText(s)).toBe(btoaCookieText(s));
      expect(decodeCookieText(encodeCookieText(s))).toBe(s);
    }
  });

  it('compare text in constant time with the answers of ===', () => {
    for (const [a, b] of [
      ['', ''],
      ['a', ''],
      ['abc', 'abc'],
      ['abc', 'abd'],
      ['abc', 'abcd'],
      ['é', 'e'],
    ])
      expect(sameText(a!, b!)).toBe(a === b);
  });
});
