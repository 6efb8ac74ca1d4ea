import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { LINEAR, preloadSlotModels } from '../../src/worker/decide-slots.ts';
import { resolveModel } from '../../src/worker/model-store.ts';
import { linearBlob, publish, resetAll, resetCaches } from './helpers.ts';

/** The real local KV, with every read's key written down. */
function countingKv(reads: string[]): KVNamespace {
  return {
    get: (key: string, type: never) => {
      reads.push(key);
      return env.MODELS.get(key, type);
    },
  } as unknown as KVNamespace;
}

const store = () => ({ now: Date.now(), refreshMs: 60_000, waitUntil: () => {} });

describe('preloading slot models', () => {
  beforeEach(async () => {
    await resetAll();
    expect((await publish(linearBlob({ name: 'pre', version: 'v1', variants: ['a', 'b'] }))).status).toBe(200);
    resetCaches(); // a cold isolate: nothing cached
  });

  it('starts a cold model\'s KV reads at once, and the later resolve shares them', async () => {
    const reads: string[] = [];
    const kv = countingKv(reads);
    const opts = store();
    preloadSlotModels({ ...env, MODELS: kv }, [{ id: 'hero', model: 'pre' }, { id: 'cta', candidates: ['x', 'y'] }], opts);
    expect(reads).toEqual(['manifest/pre']); // under way before anything awaited
    const r = await resolveModel(kv, 'pre', LINEAR, opts);
    expect(r).toMatchObject({ ok: true, version: 'v1' });
    expect(reads).toEqual(['manifest/pre', 'model/pre/v1']); // each read once

    preloadSlotModels({ ...env, MODELS: kv }, [{ id: 'hero', model: 'pre' }], opts);
    expect(reads).toHaveLength(2); // warm: no read at all
  });

  it('leaves an unknown model to the real resolve, which reports it', async () => {
    const reads: string[] = [];
    const kv = countingKv(reads);
    const opts = store();
    preloadSlotModels({ ...env, MODELS: kv }, [{ id: 'hero', model: 'nope' }], opts);
    expect(await resolveModel(kv, 'nope', LINEAR, opts)).toEqual({ ok: false, reason: 'unknownModel', version: null });
    expect(reads).toEqual(['manifest/nope']);
  });
});
