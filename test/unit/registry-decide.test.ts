import { describe, expect, it } from 'vitest';
import { buildContext } from '../../src/core/context.ts';
import { decideLinear, decideUniform, fallbackDecision } from '../../src/core/decide.ts';
import { hashFeatureKey } from '../../src/core/feature-keys.ts';
import { extractFeatures, FEATURE_SPEC_HASH } from '../../src/core/features.ts';
import { addRows, encodeLinearModel, finishScores, linearFromEnvelope, scoreVariants } from '../../src/core/linear-model.ts';
import { decodeEnvelope } from '../../src/core/model-format.ts';
import { encodeShadingModel } from '../../src/core/bidding/shading-model.ts';
import {
  activateModel,
  checkPublish,
  publishModel,
  readManifest,
  rollbackModel,
  rollbackTargets,
  type ModelStorage,
} from '../../src/core/model-registry.ts';
import { newProfile } from '../../src/core/profile.ts';
import { manifestKey, modelKey } from '../../src/core/store-keys.ts';

/** The core's storage interface over a Map: the registry's logic, without any platform. */
function memoryStorage(): ModelStorage & { map: Map<string, Uint8Array | string> } {
  const map = new Map<string, Uint8Array | string>();
  return {
    map,
    getBytes: async (k) => {
      const v = map.get(k);
      return v instanceof Uint8Array ? v.slice().buffer : null;
    },
    getText: async (k) => {
      const v = map.get(k);
      return typeof v === 'string' ? v : null;
    },
    put: async (k, v) => {
      map.set(k, typeof v === 'string' ? v : v.slice());
    },
  };
}

function model(version: string, mobileBoost = 2, policy = { type: 'greedy' as const, epsilon: 0.1 }) {
  const variants = ['control', 'a', 'b'];
  const bits = 8;
  const w = new Float32Array((1 << bits) * 3);
  w[(hashFeatureKey('device=mobile')! & 255) * 3 + 1] = mobileBoost;
  w[(hashFeatureKey('device=desktop')! & 255) * 3 + 2] = 1.5;
  return encodeLinearModel({ name: 'hero', version, variants, bits, bias: [-2, -2.2, -2.1], weights: w, policy });
}

function decoded(blob: Uint8Array) {
  const env = decodeEnvelope(blob.slice().buffer);
  if (!env.ok) throw new Error(env.reason);
  const m = linearFromEnvelope(env.envelope);
  if (!m.ok) throw new Error(m.reason);
  return m.model;
}

const mobile = () =>
  extractFeatures(
    buildContext({ now: 0, profile: newProfile(0), userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148' }),
  );
const desktop = () =>
  extractFeatures(
    buildContext({ now: 0, profile: newProfile(0), userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36' }),
  );

describe('linear scoring and decisions', () => {
  it('scores match a float reference within int8 quantization error', () => {
    const m = decoded(model('v1'));
    const out = new Float64Array(3);
    scoreVariants(m, mobile(), out);
    expect(out[0]).toBeCloseTo(-2, 5);
    expect(out[1]).toBeCloseTo(-0.2, 1); // -2.2 + 2
    expect(out[2]).toBeCloseTo(-2.1, 5);
  });

  it('scores a shared prefix once and a suffix per case, exactly as the whole vector', () => {
    const m = decoded(model('v1'));
    const whole = mobile();
    for (const split of [0, 1, 10, whole.length - 1, whole.length]) {
      const prefix = { hashes: whole.hashes, values: whole.values, length: split };
      const acc = new Float64Array(3);
      addRows(m, prefix, 0, acc);
      addRows(m, whole, split, acc);
      finishScores(m, acc, acc);
      const ref = new Float64Array(3);
      scoreVariants(m, whole, ref);
      expect([...acc]).toEqual([...ref]);
    }
  });

  it('scores every variant count alike: the sums a plain loop over the weights gives, exactly', () => {
    const fv = mobile();
    for (const k of [1, 2, 3, 4, 5, 7]) {
      for (const quantize of ['int8', 'float32'] as const) {
        const bits = 8;
        const weights = new Float32Array((1 << bits) * k).map((_, i) => Math.sin(i * 12.9898) * 0.7);
        const variants = Array.from({ length: k }, (_, v) => `v${v}`);
        const bias = variants.map((_, v) => -1 - v / 10);
        const m = decoded(encodeLinearModel({ name: 'k', version: `k${k}`, variants, bits, bias, weights, quantize }));
        const reference = variants.map((_, v) => {
          let sum = 0;
          for (let j = 0; j < fv.length; j++) sum += m.weights[(fv.hashes[j]! & m.mask) * k + v]! * fv.values[j]!;
          return m.bias[v]! + sum * m.scale[v]!;
        });
        const out = new Float64Array(k);
        scoreVariants(m, fv, out);
        expect([...out], `${k} variants, ${quantize}`).toEqual(reference);
      }
    }
  });

  it('names the candidates in the order they were asked for, with their own probabilities', () => {
    const m = decoded(model('v1'));
    const all = decideLinear(m, null, mobile(), 0.5)!;
    const reversed = decideLinear(m, ['b', 'a', 'control'], mobile(), 0.5)!;
    expect(reversed.candidates).toEqual(['b', 'a', 'control']);
    expect(reversed.probabilities).toEqual([...all.probabilities].reverse());
  });

  it('chooses by context with exact propensities, and respects candidate lists', () => {
    const m = decoded(model('v1'));
    const d = decideLinear(m, null, mobile(), 0.5)!;
    expect(d).toMatchObject({ variant: 'a', source: 'model', candidates: ['control', 'a', 'b'] });
    expect(d.propensity).toBeCloseTo(0.9 + 0.1 / 3, 12);
    expect(decideLinear(m, null, desktop(), 0.5)!.variant).toBe('b');
    const explore = decideLinear(m, null, mobile(), 0.01)!; // u in control's ε/3 share
    expect(explore).toMatchObject({ variant: 'control', source: 'explore' });
    expect(explore.propensity).toBeCloseTo(0.1 / 3, 12);
    const restricted = decideLinear(m, ['control', 'b'], mobile(), 0.5)!;
    expect(restricted.candidates).toEqual(['control', 'b']);
    expect(restricted.probabilities.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    expect(decideLinear(m, ['zzz'], mobile(), 0.5)).toBeNull();
    expect(decideLinear(m, null, mobile(), 0.5, 'b')!.variant).toBe('b'); // sticky assignment wins
  });

  it('uniform and fallback decisions', () => {
    expect(decideUniform(['x', 'y', 'z', 'w'], 0.6)).toMatchObject({ variant: 'z', propensity: 0.25, source: 'explore' });
    expect(fallbackDecision(['x', 'y'])).toMatchObject({ variant: 'x', propensity: 1, source: 'fallback' });
  });
});

describe('model registry', () => {
  it('publishes atomically, refuses rewrites of a version, activates and rolls back', async () => {
    const s = memoryStorage();
    const r1 = await publishModel(s, model('v1'), { now: 1 });
    expect(r1).toMatchObject({ ok: true, version: 'v1', unchanged: false });
    expect(JSON.parse(s.map.get(manifestKey('hero')) as string)).toMatchObject({ active: 'v1', kind: 'linear' });
    expect(await publishModel(s, model('v1'), { now: 2 })).toMatchObject({ ok: true, unchanged: true });
    expect(await publishModel(s, model('v1', 3), { now: 3 })).toEqual({ ok: false, reason: 'versionExists', detail: 'v1' });
    expect(await publishModel(s, model('v2'), { now: 4 })).toMatchObject({ ok: true, version: 'v2' });
    expect(await rollbackModel(s, 'hero', 5)).toMatchObject({ ok: true, version: 'v1' });
    expect(await activateModel(s, 'hero', 'v2', { now: 6 })).toMatchObject({ ok: true, version: 'v2' });
    expect(await activateModel(s, 'hero', 'v9', { now: 7 })).toEqual({ ok: false, reason: 'unknownVersion', detail: 'v9' });
    expect(await rollbackModel(s, 'nope')).toEqual({ ok: false, reason: 'unknownModel' });
    expect(s.map.has(modelKey('hero', 'v1'))).toBe(true);
  });

  it('refuses a model built for another feature spec, and one it cannot decode', async () => {
    const s = memoryStorage();
    const foreign = encodeLinearModel({
      name: 'x',
      version: 'v1',
      variants: ['a'],
      bits: 4,
      bias: [0],
      weights: new Float32Array(16),
      featureSpecHash: FEATURE_SPEC_HASH ^ 1,
    });
    expect(await publishModel(s, foreign)).toEqual({ ok: false, reason: 'featureSpec' });
    expect(await publishModel(s, model('v1').slice(0, 40))).toEqual({ ok: false, reason: 'truncated' });
    expect(s.map.size).toBe(0);
  });

  it('refuses at publish a model its loader would refuse: non-finite numbers, a temperature that overflows', async () => {
    const s = memoryStorage();
    const w = new Float32Array(2 * 16);
    const blob = (over: Partial<Parameters<typeof encodeLinearModel>[0]>) =>
      encodeLinearModel({ name: 'odd', version: 'v1', variants: ['a', 'b'], bits: 4, bias: [0, 0], weights: w, ...over });
    for (const bad of [
      blob({ bias: [NaN, 0] }),
      blob({ bias: [Infinity, 0] }),
      blob({ weights: Float32Array.from(w, (_, i) => (i === 3 ? NaN : 0)), quantize: 'float32' }),
      blob({ sigma: [0.1, Infinity] }),
      blob({ policy: { type: 'softmax', temperature: 1e-320, floor: 0.1 } }),
    ]) {
      expect(await publishModel(s, bad)).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(s.map.size).toBe(0); // nothing written
    expect((await publishModel(s, blob({ policy: { type: 'softmax', temperature: 0.5, floor: 0.1 } }))).ok).toBe(true);
  });

  it('rolls back step by step through earlier activations instead of toggling between the last two', async () => {
    const s = memoryStorage();
    for (const [i, v] of ['v1', 'v2', 'v3'].entries()) await publishModel(s, model(v), { now: i });
    expect(await rollbackModel(s, 'hero', 10)).toMatchObject({ ok: true, version: 'v2' });
    expect(await rollbackModel(s, 'hero', 11)).toMatchObject({ ok: true, version: 'v1' });
    expect(await rollbackModel(s, 'hero', 12)).toMatchObject({ ok: false, reason: 'noPrevious' });
    await activateModel(s, 'hero', 'v3', { now: 13 }); // a deliberate activation starts a new step
    expect(await rollbackModel(s, 'hero', 14)).toMatchObject({ ok: true, version: 'v1' });
    const stored = readManifest(s.map.get(manifestKey('hero')) as string);
    expect(stored.state === 'ok' && stored.manifest.history.map((h) => `${h.version}${h.rollback ? '↩' : ''}`)).toEqual([
      'v1',
      'v2',
      'v3',
      'v2↩',
      'v1↩',
      'v3',
      'v1↩',
    ]);
  });

  it('rollback targets: a stack replay of the history, also when the history was trimmed', () => {
    const h = (...xs: string[]) =>
      xs.map((x, at) => (x.endsWith('↩') ? { version: x.slice(0, -1), at, rollback: true as const } : { version: x, at }));
    expect(rollbackTargets(h('v1', 'v2', 'v3'), 'v3')).toEqual(['v2', 'v1']);
    expect(rollbackTargets(h('v1', 'v2', 'v3', 'v2↩'), 'v2')).toEqual(['v1']);
    expect(rollbackTargets(h('v1', 'v2', 'v1', 'v3'), 'v3')).toEqual(['v1', 'v2']); // v1 once, at its latest place
    expect(rollbackTargets(h('v5↩', 'v6'), 'v6')).toEqual(['v5']); // the trimmed start: the rollback's own version
    expect(rollbackTargets(h('v1'), 'v1')).toEqual([]);
    // `active` set by hand to another version: back to the history's last, never to itself
    expect(rollbackTargets(h('v1', 'v2', 'v3'), 'v1')).toEqual(['v3', 'v2']);
  });

  it('rollback walks past versions whose blob is gone or no longer loads, and names them', async () => {
    const s = memoryStorage();
    for (const [i, v] of ['v1', 'v2', 'v3', 'v4'].entries()) await publishModel(s, model(v), { now: i });
    s.map.delete(modelKey('hero', 'v3'));
    const broken = (s.map.get(modelKey('hero', 'v2')) as Uint8Array).slice();
    broken[broken.length - 9]! ^= 0xff;
    s.map.set(modelKey('hero', 'v2'), broken);
    const v1 = s.map.get(modelKey('hero', 'v1'))!;
    s.map.delete(modelKey('hero', 'v1'));
    expect(await rollbackModel(s, 'hero', 9)).toEqual({
      ok: false,
      reason: 'noPrevious',
      detail: 'skipped v3 (missing), v2 (checksum), v1 (missing)',
    });
    s.map.set(modelKey('hero', 'v1'), v1);
    expect(await rollbackModel(s, 'hero', 10)).toMatchObject({ ok: true, version: 'v1' });
  });

  it('activation runs the publish checks, and a version of another kind needs allowKindChange', async () => {
    const s = memoryStorage();
    await publishModel(s, model('v1'));
    const bandit = encodeShadingModel('hero', 'v2', new Map());
    expect(await publishModel(s, bandit)).toMatchObject({ ok: false, reason: 'kindChanged' });
    expect(s.map.has(modelKey('hero', 'v2'))).toBe(false);
    // staged without activating: nothing changes yet, so no flag is needed until the activation
    expect(await publishModel(s, bandit, { activate: false })).toMatchObject({ ok: true, manifest: { active: 'v1' } });
    expect(await activateModel(s, 'hero', 'v2')).toMatchObject({ ok: false, reason: 'kindChanged' });
    expect(await activateModel(s, 'hero', 'v2', { allowKindChange: true })).toMatchObject({
      ok: true,
      manifest: { kind: 'shading', active: 'v2' },
    });
    // undoing a change of kind is what a rollback is for
    expect(await rollbackModel(s, 'hero')).toMatchObject({ ok: true, version: 'v1', manifest: { kind: 'linear', active: 'v1' } });
    expect(await activateModel(s, 'hero', 'v2', { allowKindChange: true })).toMatchObject({ ok: true });
    // a stored version that would not load (written behind the registry's back) is not activated
    const foreign = encodeLinearModel({
      name: 'hero',
      version: 'v3',
      variants: ['a'],
      bits: 4,
      bias: [0],
      weights: new Float32Array(16),
      featureSpecHash: FEATURE_SPEC_HASH ^ 1,
    });
    s.map.set(modelKey('hero', 'v3'), foreign);
    expect(await activateModel(s, 'hero', 'v3', { allowKindChange: true })).toEqual({ ok: false, reason: 'featureSpec', detail: 'v3' });
    expect(await activateModel(s, 'hero', '../x')).toEqual({ ok: false, reason: 'unknownVersion', detail: '../x' });
    expect(await activateModel(s, 'ghost', 'v1')).toEqual({ ok: false, reason: 'unknownModel' });
  });

  it('an unreadable manifest: publish and activate replace it and say so, rollback refuses', async () => {
    const s = memoryStorage();
    await publishModel(s, model('v1'));
    await publishModel(s, model('v2'));
    for (const bad of ['{"name":"hero"', '{"name":"hero","kind":"linear","active":"v1","history":[{"version":7}]}', 'null']) {
      s.map.set(manifestKey('hero'), bad);
      expect(readManifest(bad)).toEqual({ state: 'unreadable' });
      expect(await rollbackModel(s, 'hero')).toEqual({ ok: false, reason: 'manifestUnreadable' });
      expect(await activateModel(s, 'hero', 'v1', { now: 5 })).toMatchObject({
        ok: true,
        repairedManifest: true,
        manifest: { active: 'v1', history: [{ version: 'v1', at: 5 }] },
      });
    }
    // an experiment's snapshot manifest, as its aggregator writes it, with the longest key allowed
    const snapshot = { name: `exp.${'k'.repeat(64)}`, kind: 'bandit', active: '3.17', history: [{ version: '3.17', at: 5 }] };
    expect(readManifest(JSON.stringify(snapshot))).toEqual({ state: 'ok', manifest: snapshot });
    s.map.set(manifestKey('hero'), 'garbage');
    expect(await publishModel(s, model('v3'))).toMatchObject({ ok: true, repairedManifest: true, manifest: { active: 'v3' } });
  });

  it('checkPublish says what a publish would do without writing anything', async () => {
    const s = memoryStorage();
    await publishModel(s, model('v1'));
    const before = new Map(s.map);
    expect(await checkPublish(s, model('v1'))).toMatchObject({ ok: true, stored: true });
    expect(await checkPublish(s, model('v2'))).toMatchObject({ ok: true, stored: false });
    expect(await checkPublish(s, model('v1', 5))).toEqual({ ok: false, reason: 'versionExists', detail: 'v1' });
    expect(s.map).toEqual(before);
  });

  it('can publish without activating', async () => {
    const s = memoryStorage();
    await publishModel(s, model('v1'));
    expect(await publishModel(s, model('v2'), { activate: false })).toMatchObject({ ok: true, manifest: { active: 'v1' } });
  });
});
