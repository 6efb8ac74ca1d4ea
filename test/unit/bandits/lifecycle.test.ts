import { describe, expect, it } from 'vitest';
import {
  editable,
  eligibility,
  newExperiment,
  transition,
  type Experiment,
  type ExperimentConfig,
} from '../../../src/core/experiments/experiment.ts';
import { buildContext } from '../../../src/core/context.ts';
import { newProfile } from '../../../src/core/profile.ts';

const config: ExperimentConfig = {
  key: 'hero',
  name: 'Hero',
  arms: [
    { key: 'a', payload: { type: 'text', value: 'A' } },
    { key: 'b', payload: { type: 'text', value: 'B' } },
  ],
  control: 'a',
  goals: ['click'],
  attributionWindowSeconds: 3600,
  traffic: 0.5,
  targeting: { context: { device: ['mobile'] } },
  algorithm: { name: 'thompson', floor: 0.05 },
  schedule: {},
  publishSeconds: 5,
  sticky: true,
};

function step(e: Experiment, action: Parameters<typeof transition>[1], winner?: string) {
  const r = transition(e, action, 1000, winner);
  if (!r.ok) throw new Error(r.message);
  return r;
}

describe('experiment lifecycle', () => {
  it('walks draft → running → paused → running → stopped → archived, bumping the version each time', () => {
    let e = newExperiment(config, 0);
    for (const [a, s] of [
      ['launch', 'running'],
      ['pause', 'paused'],
      ['resume', 'running'],
      ['stop', 'stopped'],
      ['archive', 'archived'],
    ] as const) {
      const r = step(e, a, a === 'stop' ? 'b' : undefined);
      expect(r.changed).toBe(true);
      expect(r.experiment.status).toBe(s);
      expect(r.experiment.version).toBe(e.version + 1);
      e = r.experiment;
    }
    expect(e.winner).toBe('b');
    expect(e.history.map((h) => h.action)).toEqual(['create', 'launch', 'pause', 'resume', 'stop', 'archive']);
  });

  it('repeated transitions are no-ops that succeed', () => {
    const running = step(newExperiment(config, 0), 'launch').experiment;
    const again = step(running, 'launch');
    expect(again.changed).toBe(false);
    expect(again.experiment).toBe(running);
    const stopped = step(running, 'stop', 'b').experiment;
    expect(step(stopped, 'stop', 'b').changed).toBe(false);
    expect(step(stopped, 'stop').changed).toBe(false);
  });

  it('refuses illegal transitions', () => {
    const draft = newExperiment(config, 0);
    const stopped = step(step(draft, 'launch').experiment, 'stop').experiment;
    expect(stopped.winner).toBe('a'); // control by default
    for (const [e, a] of [
      [stopped, 'resume'],
      [stopped, 'launch'],
      [draft, 'pause'],
      [draft, 'resume'],
      [draft, 'stop'],
    ] as const) {
      const r = transition(e, a, 0);
      expect(r.ok).toBe(false);
    }
    expect(transition(stopped, 'stop', 0, 'b')).toMatchObject({ ok: false, reason: 'illegal' });
    expect(transition(step(draft, 'launch').experiment, 'stop', 0, 'zzz')).toMatchObject({ ok: false, reason: 'unknownArm' });
    expect(transition(step(draft, 'launch').experiment, 'archive', 0)).toMatchObject({ ok: false, reason: 'illegal' });
  });

  it('re-randomizing bumps the epoch; arms are frozen after launch', () => {
    const running = step(newExperiment(config, 0), 'launch').experiment;
    expect(step(running, 'rerandomize').experiment.epoch).toBe(2);
    expect(editable(running, { ...config, traffic: 1 })).toEqual({ ok: true });
    expect(editable(running, { ...config, arms: config.arms.slice(0, 1) })).toMatchObject({ ok: false, field: 'arms' });
  });

  it('targets on context, schedule and a stable traffic split', () => {
    const e = step(newExperiment(config, 0), 'launch').experiment;
    const now = Date.UTC(2026, 10, 23);
    const ctx = (ua: string) => buildContext({ now, userAgent: ua, profile: newProfile(now) });
    const mobile = ctx(
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
    );
    const desktop = ctx('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36');
    expect(eligibility(e, mobile, 0.1)).toBeNull();
    expect(eligibility(e, mobile, 0.7)).toBe('traffic');
    expect(eligibility(e, desktop, 0.1)).toBe('targeting');
    expect(eligibility({ ...e, schedule: { end: now } }, mobile, 0.1)).toBe('schedule');
    expect(eligibility({ ...e, status: 'paused' }, mobile, 0.1)).toBe('paused');
    const bySegment = { ...e, targeting: { segments: ['pricing-intent', 'returning'] } };
    expect(eligibility(bySegment, { ...desktop, segments: ['returning'] }, 0.1)).toBeNull();
    expect(eligibility(bySegment, { ...desktop, segments: ['other'] }, 0.1)).toBe('targeting');
  });
});
