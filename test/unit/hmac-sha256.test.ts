/** The synchronous HMAC-SHA256 of the bid path gives WebCrypto's numbers. */
import { describe, expect, it } from 'vitest';
import { hmacKey, hmacSha256 } from '../../src/core/hmac-sha256.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function reference(key: Uint8Array, message: string): Promise<string> {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return hex(new Uint8Array(await crypto.subtle.sign('HMAC', k, new TextEncoder().encode(message))));
}

describe('hmacSha256', () => {
  it('matches RFC 4231 test case 2', () => {
    expect(hex(hmacSha256(hmacKey('Jefe'), 'what do ya want for nothing?'))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('equals WebCrypto on random keys (short, 64 bytes, longer than a block) and messages of every length around the block sizes', async () => {
    let seed = 17;
    const rnd = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const ascii = (n: number) => Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(rnd() * 95))).join('');
    for (const keyLength of [1, 16, 63, 64, 65, 100, 200]) {
      const key = Uint8Array.from({ length: keyLength }, () => Math.floor(rnd() * 256));
      const k = hmacKey(key);
      for (let n = 0; n <= 300; n += n < 140 ? 1 : 37) {
        const m = ascii(n);
        expect(hex(hmacSha256(k, m)), `key ${keyLength}, message ${n}`).toBe(await reference(key, m));
      }
      for (const m of ['ü', 'notice|d=é&c=日本', `${ascii(60)}€${ascii(3)}`]) expect(hex(hmacSha256(k, m))).toBe(await reference(key, m));
    }
    expect(hex(hmacSha256(hmacKey('a string secret'), 'x'))).toBe(await reference(new TextEncoder().encode('a string secret'), 'x'));
  });
});
