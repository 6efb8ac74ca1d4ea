import { describe, expect, it } from 'vitest';
import { MEMO_KEY_MAX } from '../../src/core/input-limits.ts';
import { fingerprint, memoCompute, memoGet, memoTable } from '../../src/core/memo-table.ts';

/** A key the request would bring: a string of its own, never hashed by a Map. */
const fresh = (s: string): string => JSON.parse(JSON.stringify(s)) as string;

/** 64-character keys that differ only at position 1, which the fingerprint does not read. */
const twins = (count: number): string[] => {
  const base = `https://shop.example/${'p'.repeat(43)}`;
  return Array.from({ length: count }, (_, i) => `${base[0]}${String.fromCharCode(65 + i)}${base.slice(2)}`);
};

describe('memo-table', () => {
  it('finds a kept key from a fresh copy, and misses other keys', () => {
    const t = memoTable<number>(16);
    let calls = 0;
    const length = (s: string) => {
      calls++;
      return s.length;
    };
    const ua = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Safari/604.1';
    expect(memoGet(t, fresh(ua))).toBeUndefined();
    expect(memoCompute(t, fresh(ua), length)).toBe(ua.length);
    expect(memoGet(t, fresh(ua))).toBe(ua.length);
    expect(memoGet(t, fresh(ua.replace('17_0', '17_1')))).toBeUndefined();
    expect(memoGet(t, '')).toBeUndefined();
    expect(calls).toBe(1);
  });

  it('tells apart keys that share a fingerprint, by comparing them whole', () => {
    const keys = twins(5);
    expect(new Set(keys.map(fingerprint)).size).toBe(1); // the test's premise: one bucket
    const t = memoTable<string>(64);
    for (const k of keys) memoCompute(t, fresh(k), (s) => `value of ${s}`);
    for (const k of keys) expect(memoGet(t, fresh(k))).toBe(`value of ${k}`);
    expect(t.size).toBe(5);
  });

  it('keeps every key of a crowded fingerprint: past eight, its bucket is a Map of its own', () => {
    const keys = twins(12);
    const t = memoTable<number>(1024);
    for (const [i, k] of keys.entries()) memoCompute(t, k, () => i);
    expect(t.size).toBe(12);
    expect(t.buckets.get(fingerprint(keys[0]!))).toBeInstanceOf(Map);
    expect(keys.map((k) => memoGet(t, fresh(k)))).toEqual(keys.map((_, i) => i));
  });

  it("finds again a campaign's links to a thousand product pages, which differ only in the id", () => {
    const urls = Array.from(
      { length: 1000 },
      (_, i) => `https://shop.example/products/${1000 + i}xyz?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale`,
    );
    const t = memoTable<string>(2048);
    let computed = 0;
    const parse = (u: string) => {
      computed++;
      return u.slice(29, 33);
    };
    for (const u of urls) memoGet(t, fresh(u)) ?? memoCompute(t, fresh(u), parse);
    for (const u of urls) expect(memoGet(t, fresh(u))).toBe(u.slice(29, 33));
    expect(computed).toBe(1000); // each once
  });

  it('is bounded: cleared when full, and long keys are computed but not kept', () => {
    const t = memoTable<number>(100);
    for (let i = 0; i < 250; i++) memoCompute(t, `https://shop.example/item-${i}`, () => i);
    expect(t.size).toBeLessThanOrEqual(100);
    expect(memoGet(t, 'https://shop.example/item-249')).toBe(249);
    const long = 'x'.repeat(MEMO_KEY_MAX + 1);
    expect(memoCompute(t, long, (s) => s.length)).toBe(MEMO_KEY_MAX + 1);
    expect(memoGet(t, long)).toBeUndefined();
  });

  it('honours keep: values it refuses are computed every time', () => {
    const t = memoTable<string>(16);
    memoCompute(
      t,
      'a?q=1',
      (s) => s,
      () => false,
    );
    expect(memoGet(t, 'a?q=1')).toBeUndefined();
  });

  it('reads a long key at its end and across its length', () => {
    const base = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
    expect(fingerprint(base.replace('Safari/537.36', 'Safari/537.37'))).not.toBe(fingerprint(base));
    expect(fingerprint(`${base}x`)).not.toBe(fingerprint(base));
    expect(fingerprint(fresh(base))).toBe(fingerprint(base));
  });
});
