import { describe, expect, it } from 'vitest';
import {
  describeChanges,
  excludePaused,
  newExperiment,
  transition,
  type Experiment,
  type ExperimentConfig,
} from '../../../src/core/experiments/experiment.ts';

const config: ExperimentConfig = {
  key: 'hero',
  name: 'Hero',
  arms: ['a', 'b', 'c'].map((key) => ({ key, payload: { type: 'text' as const, value: key } })),
  control: 'a',
  goals: ['click'],
  attributionWindowSeconds: 3600,
  traffic: 1,
  targeting: {},
  algorithm: { name: 'thompson', floor: 0.05 },
  schedule: {},
  publishSeconds: 5,
  sticky: true,
};

function ok(r: ReturnType<typeof transition>): Experiment {
  if (!r.ok) throw new Error(r.message);
  return r.experiment;
}

describe('pausing one arm', () => {
  it('pauses and resumes an arm of a running test, audited with who and which arm', () => {
    const running = ok(transition(newExperiment(config, 0, { by: 'alice' }), 'launch', 1, undefined, { by: 'alice' }));
    const paused = transition(running, 'pause-arm', 2, 'b', { by: 'guardrail', detail: 'refund rate up' });
    expect(paused).toMatchObject({ ok: true, changed: true });
    const e = ok(paused);
    expect(e.pausedArms).toEqual(['b']);
    expect(e.version).toBe(running.version + 1);
    expect(e.history.at(-1)).toEqual({ at: 2, action: 'pause-arm', status: 'running', by: 'guardrail', detail: 'refund rate up' });
    expect(e.history[0]).toMatchObject({ action: 'create', by: 'alice' });
    expect(transition(e, 'pause-arm', 3, 'b')).toMatchObject({ ok: true, changed: false });
    const resumed = ok(transition(e, 'resume-arm', 4, 'b', { by: 'bob' }));
    expect(resumed.pausedArms).toEqual([]);
    expect(resumed.history.at(-1)).toMatchObject({ action: 'resume-arm', by: 'bob', detail: 'b' });
    expect(transition(resumed, 'resume-arm', 5, 'b')).toMatchObject({ ok: true, changed: false });
  });

  it('refuses an unknown arm, a draft, no arm, and pausing the last arm served', () => {
    const draft = newExperiment(config, 0);
    expect(transition(draft, 'pause-arm', 1, 'b')).toMatchObject({ ok: false, reason: 'illegal' });
    const running = ok(transition(draft, 'launch', 1));
    expect(transition(running, 'pause-arm', 2, 'zz')).toMatchObject({ ok: false, reason: 'unknownArm' });
    expect(transition(running, 'pause-arm', 2)).toMatchObject({ ok: false, reason: 'unknownArm' });
    const two = ok(transition(ok(transition(running, 'pause-arm', 2, 'b')), 'pause-arm', 3, 'c'));
    const last = transition(two, 'pause-arm', 4, 'a');
    expect(last).toMatchObject({ ok: false, reason: 'illegal' });
    expect((last as { message: string }).message).toMatch(/last arm/);
  });

  it('takes paused arms out of an allocation and scales the rest to sum 1', () => {
    const p = Float64Array.from([0.2, 0.5, 0.3]);
    excludePaused(p, ['a', 'b', 'c'], ['b']);
    expect(Array.from(p).map((x) => +x.toFixed(6))).toEqual([0.4, 0, 0.6]);
    const q = Float64Array.from([0, 1, 0]);
    excludePaused(q, ['a', 'b', 'c'], ['b']); // nothing left with a share: unchanged rather than nothing served
    expect(Array.from(q)).toEqual([0, 1, 0]);
  });
});

describe('audit of edits', () => {
  it('names each changed field with its old and new value', () => {
    const after: ExperimentConfig = { ...config, traffic: 0.5, goals: ['click', 'purchase'] };
    expect(describeChanges(config, after)).toBe('goals ["click"] → ["click","purchase"]; traffic 1 → 0.5');
    expect(describeChanges(config, config)).toBe('no change');
  });
});
