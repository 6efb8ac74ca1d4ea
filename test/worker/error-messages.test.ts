// Bad input is answered with the field and the rule it broke (the limit, the allowed values, the
// expected type), not zod's bare "Invalid input" (src/worker/shared/issue-message.ts).
import { beforeEach, describe, expect, it } from 'vitest';
import { admin, config } from './experiment-helpers.ts';
import { postJson, resetAll } from './helpers.ts';

beforeEach(resetAll);

async function message(res: Response, status = 400): Promise<string> {
  expect(res.status).toBe(status);
  return ((await res.json()) as { error: { message: string } }).error.message;
}

const slots = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `s${i}`, candidates: ['a'] }));

describe('messages name the limit, the allowed values or the expected type', () => {
  it.each([
    ['17 slots', { slots: slots(17) }, 'slots: at most 16 slots (got 17)'],
    ['no slots', { slots: [] }, 'slots: at least 1 slot (got 0)'],
    ['slots missing', {}, 'slots: required: an array'],
    ['slots a string', { slots: 'hero' }, 'slots: expected an array (got a string)'],
    [
      '33 candidates',
      { slots: [{ id: 'a', candidates: Array.from({ length: 33 }, (_, i) => `v${i}`) }] },
      'slots[0].candidates: at most 32 candidates (got 33)',
    ],
    ['an empty candidate', { slots: [{ id: 'a', candidates: [''] }] }, 'slots[0].candidates[0]: must not be empty'],
    [
      'a long candidate',
      { slots: [{ id: 'a', candidates: ['x'.repeat(129)] }] },
      'slots[0].candidates[0]: at most 128 characters (got 129)',
    ],
    ['track not a boolean', { track: 'no', slots: slots(1) }, 'track: expected a boolean (got a string)'],
    [
      'an attribute of the wrong type',
      { attributes: { plan: { tier: 1 } }, slots: slots(1) },
      'attributes.plan: expected a string or a number or a boolean (got an object)',
    ],
  ])('decide, %s', async (_, body, expected) => {
    expect(await message(await postJson('/v1/decide', body))).toBe(expected);
  });

  it('score: 9 models', async () => {
    const models = Array.from({ length: 9 }, (_, i) => `m${i}`);
    expect(await message(await postJson('/v1/score', { models }))).toBe('models: at most 8 models (got 9)');
  });

  it('events: an unknown event name lists the allowed ones', async () => {
    const msg = await message(await postJson('/v1/events', { events: [{ name: 'foo' }] }));
    expect(msg).toBe(
      'no valid events; event 0: name: unknown event name "foo"; allowed: impression, click, conversion, add_to_cart, purchase, goal, page, render_error',
    );
  });

  it('events: a missing name says it is required and what it may be', async () => {
    const msg = await message(await postJson('/v1/events', { events: [{ visitorId: 'v-12345678' }] }));
    expect(msg).toMatch(/^no valid events; event 0: name: required: one of impression, click, /);
  });

  it('experiments: one arm, a missing name, an unknown algorithm, a too-long publish delay', async () => {
    const one = config('one');
    one.arms = one.arms.slice(0, 1);
    expect(await message(await admin('/admin/experiments', one))).toBe('arms: at least 2 arms (got 1)');

    const { name: _, ...nameless } = config('nameless');
    expect(await message(await admin('/admin/experiments', nameless))).toBe('name: required: a string');

    const algo = config('algo', { algorithm: { name: 'greedy' } });
    expect(await message(await admin('/admin/experiments', algo))).toMatch(/^algorithm\.name: unknown value "greedy"; allowed: thompson, /);

    const slow = config('slow', { publishSeconds: 7200 });
    expect(await message(await admin('/admin/experiments', slow))).toBe('publishSeconds: at most 3600 (got 7200)');

    const payload = config('payload');
    payload.arms[1] = { key: 'b', payload: { type: 'video', value: 'x' } } as never;
    expect(await message(await admin('/admin/experiments', payload))).toBe(
      'arms[1].payload.type: unknown type "video"; allowed: text, html, json, url',
    );
  });
});
