import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { preloadSlotModels } from '../../src/worker/decide/decide-slots.ts';
import { LINEAR } from '../../src/worker/models/adapters.ts';
import { readConfig } from '../../src/worker/shared/config-store.ts';
import { cachedManifestCount, resolveModel } from '../../src/worker/models/model-store.ts';
import { linearBlob, postJson, publish, resetAll, resetCaches } from './helpers.ts';
import { logged } from './log-capture.ts';

/** The real local KV, with every read's key written down. */
function countingKv(reads: string[]): KVNamespace {
  return {
    get: (key: string, type: never) => {
      reads.push(key);
      return env.KV.get(key, type);
    },
  } as unknown as KVNamespace;
}

const store = (kept: Promise<unknown>[] = []) => ({
  now: Date.now(),
  refreshMs: 60_000,
  waitUntil: (p: Promise<unknown>) => void kept.push(p),
});

describe('preloading slot models', () => {
  beforeEach(async () => {
    await resetAll();
    expect((await publish(linearBlob({ name: 'pre', version: 'v1', variants: ['a', 'b'] }))).status).toBe(200);
    resetCaches(); // a cold isolate: nothing cached
  });

  it("starts a cold model's KV reads at once, and the later resolve shares them", async () => {
    const reads: string[] = [];
    const kv = countingKv(reads);
    const opts = store();
    preloadSlotModels(
      { ...env, KV: kv },
      [
        { id: 'hero', model: 'pre' },
        { id: 'cta', candidates: ['x', 'y'] },
      ],
      opts,
    );
    expect(reads).toEqual(['manifest/pre']); // under way before anything awaited
    const r = await resolveModel(kv, 'pre', LINEAR, opts);
    expect(r).toMatchObject({ ok: true, version: 'v1' });
    expect(reads).toEqual(['manifest/pre', 'model/pre/v1']); // each read once

    preloadSlotModels({ ...env, KV: kv }, [{ id: 'hero', model: 'pre' }], opts);
    expect(reads).toHaveLength(2); // warm: no read at all
  });

  it('leaves an unknown model to the real resolve, which reports it', async () => {
    const reads: string[] = [];
    const kv = countingKv(reads);
    const opts = store();
    preloadSlotModels({ ...env, KV: kv }, [{ id: 'hero', model: 'nope' }], opts);
    expect(await resolveModel(kv, 'nope', LINEAR, opts)).toEqual({ ok: false, reason: 'unknownModel', version: null });
    expect(reads).toEqual(['manifest/nope']);
  });

  it('hands every read other requests may wait on to waitUntil, so the request that started it may end first', async () => {
    const kept: Promise<unknown>[] = [];
    const reads: string[] = [];
    preloadSlotModels({ ...env, KV: countingKv(reads) }, [{ id: 'hero', model: 'pre' }], store(kept));
    expect(kept.length).toBeGreaterThan(0);
    await Promise.all(kept);
    expect(reads).toEqual(['manifest/pre', 'model/pre/v1']); // the whole load finished on kept promises alone

    resetCaches();
    const direct: Promise<unknown>[] = [];
    expect(await resolveModel(env.KV, 'pre', LINEAR, store(direct))).toMatchObject({ ok: true });
    expect(direct).toHaveLength(2); // the cold manifest read and the blob read

    const config: Promise<unknown>[] = [];
    expect(await readConfig(env.KV, 'config/absent', () => null, 'fallback', store(config))).toBe('fallback');
    expect(config).toHaveLength(1); // configs' cold reads are shared the same way
  });

  it("a (strict) 404 on an earlier slot does not spoil a later slot's model for the next request", async () => {
    const slots = [
      { id: 'a', model: 'nope', candidates: ['x'] },
      { id: 'b', model: 'pre', candidates: ['a', 'b'] },
    ];
    expect((await postJson('/v1/decide', { strict: true, slots })).status).toBe(404);
    const res = await postJson('/v1/decide', { slots: [slots[1]] });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { decisions: { source: string }[] }).decisions[0]!.source).not.toBe('fallback');
  });

  it('holds a bounded number of model names, however many unknown ones callers send, and keeps the real ones', async () => {
    const reads: string[] = [];
    const kv = countingKv(reads);
    const opts = store();
    expect(await resolveModel(kv, 'pre', LINEAR, opts)).toMatchObject({ ok: true });
    await Promise.all(Array.from({ length: 1100 }, (_, i) => resolveModel(kv, `made-up-${i}`, LINEAR, opts)));
    expect(cachedManifestCount()).toEqual({ known: 1, missing: 1024 });
    reads.length = 0;
    expect(await resolveModel(kv, 'pre', LINEAR, opts)).toMatchObject({ ok: true });
    expect(reads).toEqual([]); // the flood of made-up names did not evict the real model
    expect(await resolveModel(kv, 'made-up-1099', LINEAR, opts)).toMatchObject({ ok: false, reason: 'unknownModel' });
    expect(reads).toEqual([]); // and a made-up name is not read again within the refresh interval
  });

  it('made-up names sent while KV fails do not evict the real models either', async () => {
    let down = false;
    const kv = {
      get: (key: string, type: never) => (down ? Promise.reject(new Error('KV down')) : env.KV.get(key, type)),
    } as unknown as KVNamespace;
    const opts = store();
    expect(await resolveModel(kv, 'pre', LINEAR, opts)).toMatchObject({ ok: true });
    down = true;
    const misses = await Promise.all(Array.from({ length: 1100 }, (_, i) => resolveModel(kv, `made-up-${i}`, LINEAR, opts)));
    expect(new Set(misses.map((m) => (m.ok ? 'ok' : m.reason)))).toEqual(new Set(['unavailable']));
    // each failed read is logged as an error naming the model and the cause
    const failed = logged('manifest read failed');
    expect(failed).toHaveLength(1100);
    expect(failed.find((l) => l.fields.model === 'made-up-1099')).toEqual({
      level: 'error',
      msg: 'manifest read failed',
      fields: { model: 'made-up-1099', error: 'Error: KV down' },
    });
    expect(cachedManifestCount()).toEqual({ known: 1, missing: 1024 });
    expect(await resolveModel(kv, 'pre', LINEAR, opts)).toMatchObject({ ok: true, version: 'v1' }); // still served from memory
  });
});
