/** The shading trainer: win/loss events from the log → per-publisher win curves. */
import { describe, expect, it } from 'vitest';
import type { OutcomeEvent } from '../../src/core/outcome-event.ts';
import { winProb, type WinCurve } from '../../src/core/bidding/win-curve.ts';
import { addRecord, createShadingFit, curvesOf } from '../../src/train/fit-shading.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
}

let nextDecision = 0;
function event(name: 'win' | 'loss' | 'billing', bid: number, pub: string, decisionId = `d${nextDecision++}`): OutcomeEvent {
  return { type: 'outcome', v: 1, id: `${name}:${decisionId}`, ts: 0, receivedAt: 0, name, decisionId, auction: {}, props: { campaign: 'c', bid, pub } };
}

describe('fit-shading', () => {
  it('recovers each publisher’s curve, pooling small publishers into *', () => {
    const u = rng(5);
    const truth: Record<string, WinCurve> = { big: { a: -1, k: 2.5 }, small: { a: 1, k: 1 } };
    const fit = createShadingFit();
    for (let i = 0; i < 30_000; i++) {
      const pub = i % 100 === 0 ? 'small' : 'big';
      const bid = Math.exp(-1 + 3 * u());
      expect(addRecord(fit, event(u() < winProb(truth[pub]!, bid) ? 'win' : 'loss', bid, pub))).toBe(true);
    }
    // billing duplicates a win and decision records are not outcomes: both ignored
    expect(addRecord(fit, event('billing', 1, 'big'))).toBe(false);
    const curves = curvesOf(fit, 1000);
    expect([...curves.keys()].sort()).toEqual(['*', 'pub:big']);
    expect(curves.get('pub:big')!.a).toBeCloseTo(-1, 1);
    expect(curves.get('pub:big')!.k).toBeCloseTo(2.5, 1);
  });

  it('counts each bid once: replayed notices (and a loss after its win) are dropped', () => {
    const fit = createShadingFit();
    expect(addRecord(fit, event('loss', 2, 'p', 'x1'))).toBe(true);
    for (let i = 0; i < 20; i++) expect(addRecord(fit, event('loss', 2, 'p', 'x1'))).toBe(false);
    expect(addRecord(fit, event('win', 2, 'p', 'x2'))).toBe(true);
    expect(addRecord(fit, event('loss', 2, 'p', 'x2'))).toBe(false);
    expect(fit).toMatchObject({ auctions: 2, duplicates: 21 });
  });
});
