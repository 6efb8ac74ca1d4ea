import { describe, expect, it } from 'vitest';
import { warmDecisionPath } from '../../src/worker/decide/warm-up.ts';

describe('start-up warm-up', () => {
  it('runs the whole decision path, one decision per policy kind, without I/O', () => {
    expect(warmDecisionPath()).toBe(3);
  });
});
