/**
 * Never a 5xx: every valid corpus request, with each of its fields in turn replaced by a value
 * of the wrong type or range, must be either refused by validation (naming a field) or bid on
 * without throwing. Validation that lets a malformed value through to the bidder would show up
 * here as an exception.
 */
import { describe, expect, it } from 'vitest';
import { runBidder } from '../../src/core/bidding/bidder.ts';
import { validateBidRequest } from '../../src/core/bidding/openrtb-validate.ts';
import { bidderInput } from '../../bench/micro/bid-fixtures.ts';
import { HAS_SHARED_DATA, loadCorpus } from './openrtb-corpus.ts';

const WRONG: readonly unknown[] = [null, 'x', -1, 0, {}, [], [null], 1e308, true, [1, 'a']];

function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return out;
  for (const [k, child] of Object.entries(v)) {
    const p = [...prefix, Array.isArray(v) ? Number(k) : k];
    out.push(p);
    if (p.length < 6) paths(child, p, out);
  }
  return out;
}

function mutate(root: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let at = copy;
  for (let i = 0; i < path.length - 1; i++) at = at[path[i]!] as Record<string | number, unknown>;
  at[path.at(-1)!] = value;
  return copy;
}

describe.skipIf(!HAS_SHARED_DATA)('malformed fields never crash validation or the bidder', () => {
  const valid = (HAS_SHARED_DATA ? loadCorpus() : []).filter((c) => c.expectField === null);
  it.each(valid.map((c) => [c.file, c.body] as const))('%s', (_f, body) => {
    const root = JSON.parse(body) as unknown;
    let checked = 0;
    for (const p of paths(root)) {
      for (const w of WRONG) {
        const m = mutate(root, p, w);
        const v = validateBidRequest(m);
        if (!v.ok) {
          expect(typeof v.field).toBe('string');
          continue;
        }
        expect(() => runBidder(bidderInput(v.request))).not.toThrow();
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});
