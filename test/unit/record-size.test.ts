/** The per-record size guard of the log producer (src/worker/log/record-size.ts). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DecisionRecord } from '../../src/core/decision-record.ts';
import type { OutcomeEvent } from '../../src/core/outcome-event.ts';
import { fitJson, fitRecord, MAX_RECORD_BYTES } from '../../src/worker/log/record-size.ts';

const decision = (attrs: Record<string, string>): DecisionRecord =>
  ({
    type: 'decision',
    v: 1,
    id: 'd-1',
    ts: 1,
    kind: 'variant',
    visitor: '00000000',
    slot: 'hero',
    model: null,
    action: 'a',
    propensity: 1,
    score: null,
    source: 'uniform',
    candidates: ['a'],
    probabilities: [1],
    featureSpec: 1,
    context: { attrs },
  }) as unknown as DecisionRecord;
const outcome = (goal: string): OutcomeEvent => ({ type: 'outcome', v: 1, id: 'e-1', ts: 1, receivedAt: 1, name: 'goal', goal });

afterEach(() => vi.restoreAllMocks());

describe('fitRecord', () => {
  it('passes a record that fits, with its JSON and UTF-8 size', () => {
    const r = decision({ plan: 'pro' });
    expect(fitRecord(r)).toBe(r);
    const fitted = fitJson(outcome('signup €'))!;
    expect(fitted.json).toBe(JSON.stringify(outcome('signup €')));
    expect(fitted.bytes).toBe(new TextEncoder().encode(fitted.json).byteLength); // € is 3 bytes
  });

  it('drops a record over the limit and says which, by its size in bytes not characters', () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const big = decision({ blob: 'x'.repeat(200 * 1024) });
    expect(fitRecord(big)).toBeNull();
    // 50,000 characters, 150,000 bytes
    expect(fitRecord(outcome('€'.repeat(50_000)))).toBeNull();
    expect(fitRecord(outcome('x'.repeat(50_000)))).not.toBeNull();
    const lines = error.mock.calls.map((c) => JSON.parse(String(c[0])));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      msg: 'log record too large to queue; dropped',
      id: 'd-1',
      type: 'decision',
      kind: 'variant',
      slot: 'hero',
    });
    expect(lines[0].bytes).toBeGreaterThan(MAX_RECORD_BYTES);
    expect(lines[1]).toMatchObject({ id: 'e-1', type: 'outcome', name: 'goal', bytes: expect.any(Number) });
  });

  it('takes a limit of the caller (a packer with smaller messages)', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const r = outcome('x'.repeat(1000));
    expect(fitRecord(r, 2000)).toBe(r);
    expect(fitRecord(r, 500)).toBeNull();
  });
});
