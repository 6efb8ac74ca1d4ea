/** EXCHANGE_KEYS: parsing, key lookup, and the path token (against WebCrypto). */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { exchangeOfKey, parseExchangeKeys, pathToken, pathTokenValid } from '../../src/core/bidding/exchange-keys.ts';

const KEY_A = 'key-of-exchange-a-0123456789';
const KEY_B = 'key-of-exchange-b-0123456789';

describe('EXCHANGE_KEYS', () => {
  it('maps each key to its exchange; an unknown, empty or partial key to none', () => {
    const keys = parseExchangeKeys(` adx:${KEY_A} , openx:${KEY_B},`);
    expect(keys.problems).toEqual([]);
    expect(exchangeOfKey(keys, KEY_A)).toBe('adx');
    expect(exchangeOfKey(keys, KEY_B)).toBe('openx');
    for (const wrong of ['', KEY_A.slice(0, -1), `${KEY_A} `, `adx:${KEY_A}`, 'adx']) expect(exchangeOfKey(keys, wrong)).toBeNull();
  });

  it('takes two keys for one exchange (rotation), and a key with a colon in it', () => {
    const keys = parseExchangeKeys(`adx:${KEY_A},adx:${KEY_B},other:with:colon-0123456789`);
    expect(keys.problems).toEqual([]);
    expect(exchangeOfKey(keys, KEY_A)).toBe('adx');
    expect(exchangeOfKey(keys, KEY_B)).toBe('adx');
    expect(exchangeOfKey(keys, 'with:colon-0123456789')).toBe('other');
  });

  it('refuses unusable entries one by one, naming their position and never the key', () => {
    const keys = parseExchangeKeys(
      `adx:${KEY_A},nocolon,bad id:${KEY_B},short:abc,unknown:${KEY_B},b:${KEY_A},sp:has space 0123456789,ok:${KEY_B}`,
    );
    expect(keys.problems).toHaveLength(6);
    expect(keys.problems.map((p) => p.slice(0, 7))).toEqual(['entry 2', 'entry 3', 'entry 4', 'entry 5', 'entry 6', 'entry 7']);
    for (const p of keys.problems) expect(p).not.toContain(KEY_A);
    expect(exchangeOfKey(keys, KEY_A)).toBe('adx'); // the first owner keeps a key given twice
    expect(exchangeOfKey(keys, KEY_B)).toBe('ok');
    expect(exchangeOfKey(keys, 'abc')).toBeNull();
    expect(parseExchangeKeys(undefined).entries).toEqual([]);
    expect(parseExchangeKeys('').problems).toEqual([]);
  });

  it('refuses the example key of .dev.vars.example (long enough, but public)', () => {
    const keys = parseExchangeKeys(`demo:change-me-to-a-long-random-key,adx:${KEY_A}`);
    expect(keys.problems).toEqual([expect.stringMatching(/^entry 1 \(demo\): the example key/)]);
    expect(exchangeOfKey(keys, 'change-me-to-a-long-random-key')).toBeNull();
    expect(exchangeOfKey(keys, KEY_A)).toBe('adx');
  });

  it('path tokens: 128 bits of HMAC-SHA256(key, "openrtb-path|<id>"), valid for their exchange only', () => {
    const want = createHmac('sha256', KEY_A).update('openrtb-path|adx').digest().subarray(0, 16).toString('base64url');
    expect(pathToken(KEY_A, 'adx')).toBe(want);
    const keys = parseExchangeKeys(`adx:${KEY_A},openx:${KEY_B}`);
    expect(pathTokenValid(keys, 'adx', want)).toBe(true);
    expect(pathTokenValid(keys, 'openx', want)).toBe(false);
    expect(pathTokenValid(keys, 'adx', pathToken(KEY_B, 'openx'))).toBe(false);
    expect(pathTokenValid(keys, 'adx', KEY_A)).toBe(false);
    expect(pathTokenValid(keys, 'adx', '')).toBe(false);
  });
});
