// The trainer's report says "worse" when the model loses to the constant rate, and prints no NaN
// when the holdout is empty (src/train/train.ts).
import { describe, expect, it } from 'vitest';
import type { FitReport } from '../../src/train/fit.ts';
import { formatReport, gainText } from '../../src/train/train.ts';

const report = (holdout: Partial<FitReport['holdout']>): FitReport =>
  ({
    model: { name: 'm', version: 'v1', variants: ['a', 'b'], bits: 10, nonZero: 3, bytes: 100 },
    train: { examples: 10, positives: 1, rate: 0.1, progressiveLogLoss: 0.3 },
    holdout: {
      examples: 0,
      positives: 0,
      rate: Number.NaN,
      logLoss: Number.NaN,
      baselineLogLoss: Number.NaN,
      relativeGain: Number.NaN,
      auc: Number.NaN,
      calibration: [],
      calibrationError: Number.NaN,
      ...holdout,
    },
    cutoff: '2026-11-01T00:00:00.000Z',
    window: null,
    unreadableContexts: 0,
    otherActions: 0,
  }) as unknown as FitReport;

describe('the training report', () => {
  it('a loss to the baseline reads "worse", a gain "better"', () => {
    expect(gainText(1 - 0.62 / 0.37)).toBe('67.57 % worse');
    expect(gainText(0.125)).toBe('12.50 % better');
    const text = formatReport(report({ examples: 50, rate: 0.1, logLoss: 0.62, baselineLogLoss: 0.37, relativeGain: 1 - 0.62 / 0.37 }));
    expect(text).toContain('log loss 0.62000 vs constant-rate 0.37000 (67.57 % worse)');
  });

  it('an empty holdout is said, with no NaN', () => {
    const text = formatReport(report({}));
    expect(text).not.toContain('NaN');
    expect(text).toContain('holdout   none: no decisions from 2026-11-01T00:00:00.000Z on');
  });
});
