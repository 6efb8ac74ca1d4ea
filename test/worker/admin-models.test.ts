import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeShadingModel } from '../../src/core/bidding/shading-model.ts';
import { manifestKey, modelKey } from '../../src/core/store-keys.ts';
import { LINEAR } from '../../src/worker/models/adapters.ts';
import { resolveModel } from '../../src/worker/models/model-store.ts';
import { ADMIN, fetchWorker, linearBlob, postJson, publish, resetAll, resetCaches } from './helpers.ts';

const hero = (version: string, favour = 'a') => linearBlob({ name: 'hero', version, variants: ['a', 'b'], biasBy: { [favour]: 2 } });
const admin = (path: string, body?: unknown) =>
  fetchWorker(path, {
    method: 'POST',
    headers: { ...ADMIN, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const history = async () =>
  (
    (await (await fetchWorker('/admin/models/hero', { headers: ADMIN })).json()) as { manifest: { history: { version: string }[] } }
  ).manifest.history.map((h) => h.version);

beforeEach(resetAll);

describe('model admin writes go through one writer per model', () => {
  it('concurrent publishes of different versions all land in the history', async () => {
    const versions = ['v1', 'v2', 'v3', 'v4', 'v5'];
    const answers = await Promise.all(versions.map((v) => publish(hero(v))));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const h = await history();
    expect([...h].sort()).toEqual(versions); // none lost to a read-modify-write race
    const active = ((await (await fetchWorker('/admin/models/hero', { headers: ADMIN })).json()) as { manifest: { active: string } })
      .manifest.active;
    expect(active).toBe(h[h.length - 1]);
  });

  it('two publishes of one version with different bytes: one wins, the other is refused, and the stored blob is the winner', async () => {
    const [x, y] = [hero('v1', 'a'), hero('v1', 'b')];
    const [rx, ry] = await Promise.all([publish(x), publish(y)]);
    expect([rx.status, ry.status].sort()).toEqual([200, 409]);
    const winner = rx.status === 200 ? x : y;
    expect(new Uint8Array((await env.KV.get(modelKey('hero', 'v1'), 'arrayBuffer'))!)).toEqual(winner);
    expect(await (rx.status === 409 ? rx : ry).json()).toMatchObject({ error: { code: 'versionExists', field: '(body)' } });
  });

  it('concurrent activate and rollback calls apply one after another', async () => {
    for (const v of ['v1', 'v2', 'v3']) await publish(hero(v));
    const [a, b] = await Promise.all([admin('/admin/models/hero/rollback'), admin('/admin/models/hero/rollback')]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const actives = [((await a.json()) as { active: string }).active, ((await b.json()) as { active: string }).active].sort();
    expect(actives).toEqual(['v1', 'v2']); // two steps back, not the same step twice
  });
});

describe('model admin API', () => {
  it('rollback walks back, then says there is nothing earlier', async () => {
    for (const v of ['v1', 'v2', 'v3']) await publish(hero(v));
    expect(await (await admin('/admin/models/hero/rollback')).json()).toMatchObject({ active: 'v2' });
    expect(await (await admin('/admin/models/hero/rollback')).json()).toMatchObject({ active: 'v1' });
    const none = await admin('/admin/models/hero/rollback');
    expect(none.status).toBe(409);
    expect(await none.json()).toMatchObject({ error: { code: 'noPrevious', field: 'name' } });
  });

  it('refuses a version of another kind unless asked, and names the field', async () => {
    await publish(hero('v1'));
    const shading = encodeShadingModel('hero', 'v2', new Map());
    const refused = await publish(shading);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({
      error: { code: 'kindChanged', message: expect.stringContaining('the model is linear; this version is shading') },
    });
    expect((await publish(shading, '?activate=false')).status).toBe(200); // staged: nothing changes yet
    expect((await admin('/admin/models/hero/activate', { version: 'v2' })).status).toBe(409);
    expect(await (await admin('/admin/models/hero/activate', { version: 'v2', allowKindChange: true })).json()).toMatchObject({
      active: 'v2',
    });
    const missing = await admin('/admin/models/hero/activate', { version: 'v9' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({
      error: { code: 'unknownVersion', field: 'version', message: expect.stringContaining('(v9)') },
    });
    expect(await (await admin('/admin/models/Bad%20Name/rollback')).json()).toMatchObject({ error: { field: 'name' } });
    // experiment snapshots (exp.<key>) are their aggregators' alone
    const snapshotName = await publish(linearBlob({ name: 'exp.hero', version: 'v1', variants: ['a'] }));
    expect(snapshotName.status).toBe(400);
    expect(await snapshotName.json()).toMatchObject({ error: { code: 'badName', message: expect.stringContaining('(exp.hero)') } });
    expect(await (await admin('/admin/models/exp.hero/activate', { version: 'v1' })).json()).toMatchObject({
      error: { code: 'badName', field: 'name' },
    });
    // …but they can be inspected
    const snapshot = `exp.${'k'.repeat(64)}`;
    await env.KV.put(
      manifestKey(snapshot),
      JSON.stringify({ name: snapshot, kind: 'bandit', active: '1.1', history: [{ version: '1.1', at: 0 }] }),
    );
    expect(await (await fetchWorker(`/admin/models/${snapshot}`, { headers: ADMIN })).json()).toMatchObject({
      manifest: { active: '1.1' },
      active: { error: 'missing' },
    });
  });

  it('an unreadable manifest: inspect says so, rollback refuses, activate replaces it', async () => {
    await publish(hero('v1'));
    await env.KV.put(manifestKey('hero'), '{"name": "hero", "active": 7}');
    const inspect = await fetchWorker('/admin/models/hero', { headers: ADMIN });
    expect(inspect.status).toBe(409);
    expect(await inspect.json()).toMatchObject({ error: { code: 'manifestUnreadable' } });
    expect(await (await fetchWorker('/admin/models', { headers: ADMIN })).json()).toEqual({
      models: [{ name: 'hero', error: 'manifestUnreadable' }],
    });
    expect((await admin('/admin/models/hero/rollback')).status).toBe(409);
    expect(await (await admin('/admin/models/hero/activate', { version: 'v1' })).json()).toMatchObject({
      active: 'v1',
      repairedManifest: true,
    });
    expect(await history()).toEqual(['v1']);
  });

  it('lists manifests a page at a time', async () => {
    for (let i = 0; i < 105; i++) {
      await env.KV.put(
        manifestKey(`m${String(i).padStart(3, '0')}`),
        JSON.stringify({ name: `m${i}`, kind: 'linear', active: 'v1', history: [] }),
      );
    }
    const first = (await (await fetchWorker('/admin/models', { headers: ADMIN })).json()) as { models: unknown[]; cursor?: string };
    expect(first.models).toHaveLength(100);
    expect(first.cursor).toBeTruthy();
    const second = (await (await fetchWorker(`/admin/models?cursor=${encodeURIComponent(first.cursor!)}`, { headers: ADMIN })).json()) as {
      models: unknown[];
      cursor?: string;
    };
    expect(second.models).toHaveLength(5);
    expect(second.cursor).toBeUndefined();
  });

  it('a chunked body over 25 MiB is cut off at the cap (413), not buffered whole', async () => {
    const mib = new Uint8Array(1024 * 1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 40) c.enqueue(mib);
        else c.close();
      },
    });
    const res = await fetchWorker('/admin/models', { method: 'PUT', headers: ADMIN, body: stream });
    expect(res.status).toBe(413);
    expect(sent).toBeLessThan(40); // the reader stopped pulling once past the cap
  });
});

describe('a manifest that does not validate', () => {
  it('falls back per slot (other slots stand) and says why, instead of a 404 for the page', async () => {
    await publish(hero('v1'));
    await publish(linearBlob({ name: 'cta', version: 'v1', variants: ['x', 'y'], biasBy: { y: 3 } }));
    await env.KV.put(manifestKey('hero'), 'not json');
    resetCaches();
    const res = await postJson('/v1/decide', {
      slots: [
        { id: 'top', model: 'hero', candidates: ['b', 'a'] },
        { id: 'cta', model: 'cta' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-attune-fallback')).toBe('top=corrupt');
    const body = (await res.json()) as { decisions: { variant: string; source: string }[] };
    expect(body.decisions.map((d) => [d.variant, d.source])).toEqual([
      ['b', 'fallback'],
      ['y', 'model'],
    ]);
    const score = await postJson('/v1/score', { models: ['hero', 'cta'] });
    expect(score.status).toBe(200);
    expect(score.headers.get('x-attune-fallback')).toBe('hero=corrupt');
  });

  it('a warm isolate keeps serving the last good manifest when a refresh reads a broken one', async () => {
    await publish(hero('v1'));
    const opts = (now: number) => ({ now, refreshMs: 1000, waitUntil: () => {} });
    expect(await resolveModel(env.KV, 'hero', LINEAR, opts(1))).toMatchObject({ ok: true, version: 'v1' });
    await env.KV.put(manifestKey('hero'), '{"broken": true}');
    await resolveModel(env.KV, 'hero', LINEAR, opts(5000)); // starts the refresh
    await new Promise((r) => setTimeout(r, 50));
    expect(await resolveModel(env.KV, 'hero', LINEAR, opts(5001))).toMatchObject({ ok: true, version: 'v1' });
  });
});
