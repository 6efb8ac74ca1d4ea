// The log consumer forwards records to the experiments that exist, learning which exist from a
// per-isolate list, not a KV read per name: a batch of made-up names costs no read of its own.
// The real KV binding behind a wrapper that counts its calls.
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { forwardToExperiments } from '../../src/worker/experiments/forward.ts';
import { admin, createAndLaunch, outcome } from './experiment-helpers.ts';
import { resetCaches } from './helpers.ts';

beforeEach(resetCaches);

function countingKv() {
  const calls = { get: 0, list: 0 };
  const kv = new Proxy(env.KV, {
    get(target, prop) {
      if (prop === 'get' || prop === 'list') calls[prop]++;
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { env: { ...env, KV: kv } as Env, calls };
}

const madeUp = (prefix: string, n: number, t: number) =>
  Array.from({ length: n }, (_, i) => outcome(`${prefix}-${i}`, `${prefix}-o${i}`, `${prefix}-v${i}`, t, { name: 'click' }));

describe('forwardToExperiments: which experiments exist', () => {
  it('a batch naming 500 made-up experiments costs one KV list, not 500 reads, and the real one still gets its records', async () => {
    await createAndLaunch('fwd-real');
    const t = Date.now();
    const { env: counted, calls } = countingKv();
    const real = [
      outcome('fwd-real', 'fwd-o1', 'fwd-v1', t, { name: 'click' }),
      outcome('fwd-real', 'fwd-o2', 'fwd-v2', t, { name: 'click' }),
    ];
    const summary = await forwardToExperiments(counted, [...madeUp('fwd-fake', 500, t), ...real]);
    expect(summary).toEqual({ experiments: 1, records: 2 });
    expect(calls).toEqual({ get: 0, list: 1 });
    // the next batch of new made-up names, moments later: no KV call at all
    expect(await forwardToExperiments(counted, madeUp('fwd-other', 500, t))).toEqual({ experiments: 0, records: 0 });
    expect(calls).toEqual({ get: 0, list: 1 });
  });

  it('an experiment created in this isolate is forwarded to at once; one created elsewhere once the list is 5 s old', async () => {
    const t = Date.now();
    expect(await forwardToExperiments(env, [outcome('fwd-new', 'fwd-n1', 'fwd-nv1', t, { name: 'click' })])).toEqual({
      experiments: 0,
      records: 0,
    });
    await createAndLaunch('fwd-new'); // written here: the list is dropped
    expect(await forwardToExperiments(env, [outcome('fwd-new', 'fwd-n2', 'fwd-nv2', t, { name: 'click' })])).toEqual({
      experiments: 1,
      records: 1,
    });
    // another isolate's write: straight to KV, this isolate's list unchanged
    const stored = await env.KV.get('experiment/fwd-new', 'json');
    await env.KV.put('experiment/fwd-elsewhere', JSON.stringify({ ...(stored as object), key: 'fwd-elsewhere' }));
    const rec = [outcome('fwd-elsewhere', 'fwd-e1', 'fwd-ev1', t, { name: 'click' })];
    expect((await forwardToExperiments(env, rec)).experiments).toBe(0); // the list is fresh
    expect((await forwardToExperiments(env, rec, Date.now() + 6_000)).experiments).toBe(1);
    expect((await admin('/admin/experiments/fwd-elsewhere', undefined, 'GET')).status).toBe(200);
  });
});
