// The isolate's config cache is keyed by callers too (a decide slot names any experiment key):
// made-up keys must not grow it without bound, nor push out the configs the site uses.
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { cachedConfigCount, readConfig } from '../../src/worker/shared/config-store.ts';
import { cachedExperiment } from '../../src/worker/experiments/store.ts';
import { createAndLaunch } from './experiment-helpers.ts';
import { resetCaches } from './helpers.ts';

/** The real local KV, with every read's key written down. */
function countingKv(reads: string[]): KVNamespace {
  return {
    get: (key: string, type: never) => {
      reads.push(key);
      return env.KV.get(key, type);
    },
  } as unknown as KVNamespace;
}

const store = () => ({ now: Date.now(), refreshMs: 60_000, waitUntil: () => {} });

beforeEach(resetCaches);

describe('config cache', () => {
  it('holds a bounded number of keys KV has nothing at, however many callers make up, and keeps the real ones', async () => {
    await createAndLaunch('real-test');
    resetCaches();
    const reads: string[] = [];
    const kv = countingKv(reads);
    expect((await cachedExperiment(kv, 'real-test', store()))?.key).toBe('real-test');
    for (let i = 0; i < 3; i++) {
      await Promise.all(Array.from({ length: 1000 }, (_, j) => cachedExperiment(kv, `made-up-${i * 1000 + j}`, store())));
    }
    expect(cachedConfigCount()).toEqual({ known: 1, absent: 1024 });
    reads.length = 0;
    expect((await cachedExperiment(kv, 'real-test', store()))?.key).toBe('real-test');
    expect(reads).toEqual([]); // the flood did not evict the real one
    expect(await cachedExperiment(kv, 'made-up-2999', store())).toBeNull();
    expect(reads).toEqual([]); // a recent miss is not read again within the refresh interval
    expect(await readConfig(kv, 'experiment/made-up-0', () => 'x', 'fallback', store())).toBe('fallback');
    expect(reads).toEqual(['experiment/made-up-0']); // long evicted: read again
  });

  it('a key KV had nothing at is read again after the refresh interval, and then held', async () => {
    const reads: string[] = [];
    const kv = countingKv(reads);
    const t = Date.now();
    const opts = (now: number) => ({ now, refreshMs: 1000, waitUntil: () => {} });
    expect(await readConfig(kv, 'config/late', (r) => r as string, 'none', opts(t))).toBe('none');
    await env.KV.put('config/late', JSON.stringify('here'));
    expect(await readConfig(kv, 'config/late', (r) => r as string, 'none', opts(t + 500))).toBe('none');
    expect(await readConfig(kv, 'config/late', (r) => r as string, 'none', opts(t + 1500))).toBe('here');
    expect(reads).toEqual(['config/late', 'config/late']);
    expect(cachedConfigCount()).toEqual({ known: 1, absent: 0 });
  });
});
