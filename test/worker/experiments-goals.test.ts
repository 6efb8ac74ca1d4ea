// Goals without an `experiment` field: the site's own conversion events are credited to a test
// through the exposure the visitor was served (forward.ts joins them by the goal names live
// tests watch; the aggregator matches the visitor or the decision id, and parks nothing).
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { forwardToExperiments } from '../../src/worker/experiments/forward.ts';
import { createAndLaunch, decide, eventually, exposure, outcome, results } from './experiment-helpers.ts';
import { postJson, resetCaches } from './helpers.ts';

beforeEach(resetCaches);

const unnamed = (id: string, visitor: string, extra: Record<string, unknown> = {}) => {
  const o = outcome('x', id, visitor, Date.now() + 5, { name: 'purchase', ...extra });
  const { experiment: _dropped, ...rest } = o;
  return rest;
};

describe('goals that name no experiment', () => {
  it('are credited through the exposure the visitor was served, only by tests that watch them', async () => {
    await createAndLaunch('join', { goals: ['purchase'] });
    await createAndLaunch('join-clicks'); // watches clicks only
    const t = Date.now();
    await forwardToExperiments(env, [
      exposure('join', 'join-d1', 'join-v1', 'a', t),
      exposure('join', 'join-d2', 'join-v2', 'b', t),
      exposure('join-clicks', 'jc-d1', 'join-v1', 'a', t),
      unnamed('join-o1', 'join-v1'),
      unnamed('join-o2', 'join-never-exposed'),
    ]);
    const r = await results('join');
    expect(r.arms.map((a: { conversions: number }) => a.conversions)).toEqual([1, 0]);
    expect(r.parkedOutcomes).toBe(0); // the stranger's purchase was not parked
    const other = await results('join-clicks');
    expect(other.arms.map((a: { conversions: number }) => a.conversions)).toEqual([0, 0]);
  });

  it('matches a custom goal name and a decision id', async () => {
    await createAndLaunch('join-goal', { goals: ['signup'] });
    const t = Date.now();
    await forwardToExperiments(env, [
      exposure('join-goal', 'jg-d1', 'jg-v1', 'b', t),
      exposure('join-goal', 'jg-d2', 'jg-v2', 'a', t),
      unnamed('jg-o1', 'jg-v1', { name: 'goal', goal: 'signup' }),
      { ...unnamed('jg-o2', 'someone-else', { name: 'goal', goal: 'signup' }), decisionId: 'jg-d2' },
    ]);
    expect((await results('join-goal')).arms.map((a: { conversions: number }) => a.conversions)).toEqual([1, 1]);
  });

  it('credits a purchase sent to /v1/events, and a Segment Order Completed, through the whole pipeline', async () => {
    await createAndLaunch('join-pipe', { goals: ['purchase'] });
    const served: Record<string, string> = {};
    for (const v of ['join-pipe-visitor-1', 'join-pipe-visitor-2']) served[v] = (await decide('join-pipe', v)).body.decisions[0]!.variant;
    const sent = await postJson('/v1/events', [
      { name: 'purchase', visitorId: 'join-pipe-visitor-1', value: 40, currency: 'EUR' },
      // as the snippet forwards an analytics.js call: Segment's own id, and ours beside it
      {
        type: 'track',
        event: 'Order Completed',
        anonymousId: 'segment-anon-7',
        visitorId: 'join-pipe-visitor-2',
        properties: { revenue: 12 },
      },
    ]);
    expect(((await sent.json()) as { accepted: number }).accepted).toBe(2);
    const r = await eventually('both purchases credited', async () => {
      const now = await results('join-pipe');
      return now.arms.reduce((t: number, a: { conversions: number }) => t + a.conversions, 0) === 2 ? now : null;
    });
    const byArm = Object.fromEntries(r.arms.map((a: { arm: string; conversions: number }) => [a.arm, a.conversions]));
    const expected: Record<string, number> = { a: 0, b: 0 };
    for (const arm of Object.values(served)) expected[arm]! += 1;
    expect(byArm).toEqual(expected);
  }, 30_000);
});
