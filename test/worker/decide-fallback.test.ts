/**
 * One model (or experiment) that is unknown, deleted or corrupt costs only its own slot: the call
 * answers 200, that slot gets its safe default with the reason (body, `x-attune-fallback`, a
 * warning log line, the decision record) and the other slots are decided as usual. `strict: true`
 * asks for the 404 instead. The same for /v1/score and /v1/recommend.
 */
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { manifestKey, modelKey } from '../../src/core/store-keys.ts';
import { recsModel } from './recs-helpers.ts';
import { fetchWorker, linearBlob, postJson, publish, resetAll, resetCaches } from './helpers.ts';
import { logged } from './log-capture.ts';
import { REPEAT_WINDOW_MS, warnRepeating } from '../../src/worker/shared/log.ts';
import { spiedRecords } from './counting-queue.ts';

interface Decision {
  slot: string;
  variant: string | null;
  source: string;
  propensity: number;
  decisionId: string;
  fallback?: string;
  model: { name: string; version: string | null } | null;
}
type ErrorBody = { error: { code: string; field: string } };

const SLOTS = [
  { id: 'hero', model: 'fb-hero', candidates: ['control', 'bold'] },
  { id: 'cta', model: 'fb-cta' },
];
const decide = async (body: Record<string, unknown>) => {
  const res = await postJson('/v1/decide', body);
  return { res, json: (await res.json()) as { decisions: Decision[] } & ErrorBody };
};
/** The warning lines logged while `run` ran, parsed. */
async function warnings(run: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const before = logged().length;
  await run();
  return logged()
    .slice(before)
    .filter((l) => l.level === 'warn' && (l.msg === 'slot fallback' || l.msg === 'score fallback'))
    .map((l) => ({ msg: l.msg, ...l.fields }));
}

beforeEach(async () => {
  await resetAll();
  expect((await publish(linearBlob({ name: 'fb-hero', version: 'v1', variants: ['control', 'bold'], biasBy: { bold: 3 } }))).status).toBe(
    200,
  );
  expect((await publish(linearBlob({ name: 'fb-cta', version: 'v1', variants: ['x', 'y'], biasBy: { y: 3 } }))).status).toBe(200);
});
afterEach(() => vi.restoreAllMocks());

describe('/v1/decide decides per slot', () => {
  it('a deleted manifest: that slot falls back (reason in body, header, one warning), the other slot is decided; strict: true is a 404', async () => {
    const warm = await decide({ slots: SLOTS });
    expect(warm.json.decisions.map((d) => [d.variant, d.source])).toEqual([
      ['bold', 'model'],
      ['y', 'model'],
    ]);
    await env.KV.delete(manifestKey('fb-hero'));
    resetCaches(); // an isolate that reads KV after the delete
    let res!: Response;
    let json!: { decisions: Decision[] };
    const warned = await warnings(async () => {
      ({ res, json } = await decide({ slots: SLOTS }));
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-attune-fallback')).toBe('hero=unknownModel');
    expect(json.decisions[0]).toMatchObject({
      slot: 'hero',
      variant: 'control',
      source: 'fallback',
      fallback: 'unknownModel',
      propensity: 1,
      score: null,
    });
    expect(json.decisions[1]).toMatchObject({ slot: 'cta', variant: 'y', source: 'model', model: { name: 'fb-cta', version: 'v1' } });
    expect(json.decisions[1]!.fallback).toBeUndefined();
    expect(warned).toEqual([{ msg: 'slot fallback', slot: 'hero', model: 'fb-hero', reason: 'unknownModel' }]);

    const strict = await decide({ strict: true, slots: SLOTS });
    expect(strict.res.status).toBe(404);
    expect(strict.json.error).toMatchObject({ code: 'unknown_model', field: 'slots[0].model' });
  });

  it('a fallback that repeats on every request is written once a minute per isolate, then with how many were held back', async () => {
    const slots = [{ id: 'gone', model: 'never-was', candidates: ['keep'] }];
    const first = await warnings(async () => {
      for (let i = 0; i < 5; i++) expect((await decide({ slots })).res.headers.get('x-attune-fallback')).toBe('gone=unknownModel');
    });
    expect(first).toEqual([{ msg: 'slot fallback', slot: 'gone', model: 'never-was', reason: 'unknownModel' }]);
    // another slot's fallback is its own warning
    const other = await warnings(async () => void (await decide({ slots: [{ ...slots[0]!, id: 'other' }] })));
    expect(other).toEqual([{ msg: 'slot fallback', slot: 'other', model: 'never-was', reason: 'unknownModel' }]);
    // a minute later (this isolate's clock): one line again, saying how many were held back
    const later = await warnings(async () =>
      warnRepeating('slot fallback', { slot: 'gone', model: 'never-was', reason: 'unknownModel' }, Date.now() + REPEAT_WINDOW_MS),
    );
    expect(later).toEqual([{ msg: 'slot fallback', slot: 'gone', model: 'never-was', reason: 'unknownModel', repeated: 4 }]);
  });

  it('a model that never existed: fallback, and null when the slot has no candidates; both logged as fallback records', async () => {
    const send = vi.spyOn(env.EVENTS, 'send');
    const slots = [
      { id: 'a', model: 'never-was', candidates: ['keep', 'other'] },
      { id: 'b', model: 'never-was-either' },
      { id: 'cta', model: 'fb-cta' },
    ];
    const { res, json } = await decide({ slots });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-attune-fallback')).toBe('a=unknownModel, b=unknownModel');
    expect(json.decisions.map((d) => [d.variant, d.source, d.fallback])).toEqual([
      ['keep', 'fallback', 'unknownModel'],
      [null, 'fallback', 'unknownModel'],
      ['y', 'model', undefined],
    ]);
    await vi.waitFor(() => {
      const records = spiedRecords<Record<string, unknown>>(send);
      const byId = (d: Decision) => records.find((r) => r.id === d.decisionId);
      expect(byId(json.decisions[0]!)).toMatchObject({
        kind: 'variant',
        slot: 'a',
        action: 'keep',
        propensity: 1,
        source: 'fallback',
        fallback: 'unknownModel',
        model: null,
        candidates: ['keep', 'other'],
        probabilities: [1, 0],
      });
      expect(byId(json.decisions[1]!)).toMatchObject({
        slot: 'b',
        action: '',
        propensity: 1,
        source: 'fallback',
        fallback: 'unknownModel',
        candidates: [],
        probabilities: [],
      });
      expect(byId(json.decisions[2]!)).toMatchObject({ slot: 'cta', action: 'y', source: 'model' });
    });
    const strict = await decide({ strict: true, slots });
    expect(strict.res.status).toBe(404);
    expect(strict.json.error.field).toBe('slots[0].model');
  });

  it('a corrupt blob: that slot falls back with `corrupt` and a warning, strict or not (nothing the caller could fix)', async () => {
    await env.KV.put(modelKey('fb-hero', 'v1'), new Uint8Array(64).fill(7));
    resetCaches();
    for (const strict of [false, true]) {
      let out!: Awaited<ReturnType<typeof decide>>;
      const warned = await warnings(async () => {
        out = await decide({ strict, slots: SLOTS });
      });
      expect(out.res.status).toBe(200);
      expect(out.res.headers.get('x-attune-fallback')).toBe('hero=corrupt');
      expect(out.json.decisions.map((d) => [d.variant, d.source, d.fallback])).toEqual([
        ['control', 'fallback', 'corrupt'],
        ['y', 'model', undefined],
      ]);
      expect(out.json.decisions[0]!.model).toEqual({ name: 'fb-hero', version: 'v1' });
      // the same fallback again within the minute is held back (warnRepeating)
      expect(warned).toEqual(strict ? [] : [{ msg: 'slot fallback', slot: 'hero', model: 'fb-hero', reason: 'corrupt' }]);
    }
  });

  it('an unknown experiment: its first candidate, reason `unknownExperiment`; strict: true is a 404 naming the field', async () => {
    const slots = [{ id: 'banner', experiment: 'no-such-test', candidates: ['control', 'b'] }, SLOTS[1]];
    let out!: Awaited<ReturnType<typeof decide>>;
    const warned = await warnings(async () => {
      out = await decide({ slots });
    });
    expect(out.res.status).toBe(200);
    expect(out.res.headers.get('x-attune-fallback')).toBe('banner=unknownExperiment');
    expect(out.json.decisions.map((d) => [d.variant, d.source, d.fallback])).toEqual([
      ['control', 'fallback', 'unknownExperiment'],
      ['y', 'model', undefined],
    ]);
    expect(warned).toEqual([{ msg: 'slot fallback', slot: 'banner', experiment: 'no-such-test', reason: 'unknownExperiment' }]);
    const strict = await decide({ strict: true, slots });
    expect(strict.res.status).toBe(404);
    expect(strict.json.error).toMatchObject({ code: 'unknown_experiment', field: 'slots[0].experiment' });
  });
});

describe('/v1/score scores per model', () => {
  type Scores = {
    scores: Record<string, { version: string | null; source: string; scores: Record<string, number>; fallback?: string }>;
  } & ErrorBody;

  it('a deleted or never-published model gets no scores and its reason; the others are scored; strict: true is a 404', async () => {
    await env.KV.delete(manifestKey('fb-hero'));
    resetCaches();
    const models = ['fb-hero', 'fb-cta', 'never-was'];
    let res!: Response;
    const warned = await warnings(async () => {
      res = await postJson('/v1/score', { models });
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-attune-fallback')).toBe('fb-hero=unknownModel, never-was=unknownModel');
    const { scores } = (await res.json()) as Scores;
    expect(scores['fb-hero']).toEqual({ version: null, source: 'fallback', scores: {}, fallback: 'unknownModel' });
    expect(scores['never-was']).toEqual({ version: null, source: 'fallback', scores: {}, fallback: 'unknownModel' });
    expect(scores['fb-cta']).toMatchObject({ version: 'v1', source: 'model' });
    expect(scores['fb-cta']!.scores.y).toBeGreaterThan(scores['fb-cta']!.scores.x!);
    expect(warned.map((w) => [w.model, w.reason])).toEqual([
      ['fb-hero', 'unknownModel'],
      ['never-was', 'unknownModel'],
    ]);

    const strict = await postJson('/v1/score', { strict: true, models });
    expect(strict.status).toBe(404);
    expect(((await strict.json()) as ErrorBody).error).toMatchObject({ code: 'unknown_model', field: 'models[0]' });
  });

  it('a corrupt blob: source fallback with `corrupt`, strict or not', async () => {
    await env.KV.put(modelKey('fb-cta', 'v1'), new Uint8Array(64).fill(7));
    resetCaches();
    for (const strict of [false, true]) {
      const res = await postJson('/v1/score', { strict, models: ['fb-hero', 'fb-cta'] });
      expect(res.status).toBe(200);
      const { scores } = (await res.json()) as Scores;
      expect(scores['fb-cta']).toEqual({ version: 'v1', source: 'fallback', scores: {}, fallback: 'corrupt' });
      expect(scores['fb-hero']!.source).toBe('model');
    }
  });
});

describe('/v1/recommend', () => {
  it('a missing recs model is an empty list with its reason and a warning (200); strict: true is a 404 naming `model`, POST and GET', async () => {
    let res!: Response;
    const warned = await warnings(async () => {
      res = await postJson('/v1/recommend', { model: 'never-was', slot: 'pdp', items: ['shoe-1'] });
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-attune-fallback')).toBe('pdp=unknownModel');
    expect(await res.json()).toMatchObject({ source: 'none', fallback: 'unknownModel', items: [] });
    expect(warned).toEqual([{ msg: 'slot fallback', slot: 'pdp', model: 'never-was', reason: 'unknownModel' }]);

    for (const strict of [
      await postJson('/v1/recommend', { strict: true, model: 'never-was', items: ['shoe-1'] }),
      await fetchWorker('/v1/recommend?model=never-was&items=shoe-1&strict=1'),
    ]) {
      expect(strict.status).toBe(404);
      expect(((await strict.json()) as ErrorBody).error).toMatchObject({ code: 'unknown_model', field: 'model' });
    }
  });

  it('strict: true still serves a published model, and a deleted one is a 404 only when strict', async () => {
    expect((await publish(recsModel('v1'))).status).toBe(200);
    const ok = await fetchWorker('/v1/recommend?items=shoe-1&k=2&strict=1');
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { source: string }).source).toBe('model');
    await env.KV.delete(manifestKey('recs'));
    resetCaches();
    const lenient = await fetchWorker('/v1/recommend?items=shoe-1&k=2');
    expect(lenient.status).toBe(200);
    expect(lenient.headers.get('x-attune-fallback')).toMatch(/^recs=unknownModel/);
    expect((await fetchWorker('/v1/recommend?items=shoe-1&k=2&strict=true')).status).toBe(404);
  });
});
