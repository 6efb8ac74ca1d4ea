import { describe, expect, it } from 'vitest';
import { newExperiment, transition, type Experiment, type ExperimentConfig } from '../../../src/core/experiments/experiment.ts';
import { guardrailPause } from '../../../src/core/experiments/guardrail-pause.ts';

const config: ExperimentConfig = {
  key: 'g',
  name: 'G',
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
  guardrails: [{ goal: 'refund' }],
};

function running(extra: Partial<ExperimentConfig> = {}): Experiment {
  const r = transition(newExperiment({ ...config, ...extra }, 0), 'launch', 1);
  if (!r.ok) throw new Error(r.message);
  return r.experiment;
}

const counts = (events: number[]) => [{ goal: 'refund', exposures: [2000, 2000, 2000], events }];

describe('guardrail pauses', () => {
  it('pauses the harmful arm as a new version, with the reason in the audit log', () => {
    const e = running();
    const p = guardrailPause(e, counts([40, 120, 40]), 5)!;
    expect(p.next.pausedArms).toEqual(['b']);
    expect(p.next.version).toBe(e.version + 1);
    expect(p.next.history.at(-1)).toMatchObject({ action: 'pause-arm', by: 'guardrail', status: 'running' });
    expect(p.next.history.at(-1)!.detail).toMatch(/^guardrail "refund": arm "b" raises its rate to 6\.00 % from 2\.00 %/);
  });

  it('pauses the test when the guardrail says so, or when no arm would be left', () => {
    const test = guardrailPause(running({ guardrails: [{ goal: 'refund', onHarm: 'pauseTest' }] }), counts([40, 120, 40]), 5)!;
    expect(test.next.status).toBe('paused');
    expect(test.next.history.at(-1)).toMatchObject({ action: 'pause', by: 'guardrail' });
    const both = guardrailPause(running(), counts([40, 120, 130]), 5)!;
    expect(both.next.status).toBe('paused');
    expect(both.next.pausedArms ?? []).toEqual([]);
  });

  it('changes nothing without harm, without guardrails, or when the test is not running', () => {
    expect(guardrailPause(running(), counts([40, 42, 38]), 5)).toBeNull();
    expect(guardrailPause(running({ guardrails: [] }), counts([40, 120, 40]), 5)).toBeNull();
    expect(guardrailPause(newExperiment(config, 0), counts([40, 120, 40]), 5)).toBeNull();
  });
});
