import { describe, expect, it } from 'vitest';
import { chiSquareSurvival } from '../../../src/core/stats/chi-square.ts';
import { lnGamma } from '../../../src/core/stats/gamma.ts';
import { normalCdf, normalSurvival } from '../../../src/core/stats/normal.ts';

describe('distribution tails (known values)', () => {
  it('normal', () => {
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 7);
    expect(normalSurvival(0)).toBeCloseTo(0.5, 7);
    expect(normalSurvival(3.090232306167813) / 0.001).toBeCloseTo(1, 5);
    expect(normalSurvival(6) / 9.865876450376946e-10).toBeCloseTo(1, 5);
    expect(normalCdf(-2) + normalSurvival(-2)).toBeCloseTo(1, 12);
  });

  it('χ² upper tail and ln Γ', () => {
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 10);
    expect(chiSquareSurvival(10.827566170662733, 1) / 0.001).toBeCloseTo(1, 8);
    expect(chiSquareSurvival(5.991464547107979, 2)).toBeCloseTo(0.05, 10); // e^(−x/2) for df = 2
    expect(chiSquareSurvival(0.5, 4)).toBeCloseTo(Math.exp(-0.25) * 1.25, 12); // e^(−x/2)(1 + x/2) for df = 4
    expect(chiSquareSurvival(124.34211340400407, 100)).toBeCloseTo(0.05, 8);
    expect(chiSquareSurvival(0, 3)).toBe(1);
    expect(lnGamma(10)).toBeCloseTo(Math.log(362_880), 12);
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
  });
});
