// The Worker as wrangler uploads it (scripts/build-worker.mjs, wrangler.toml's `[build]`): split at
// every dynamic import, so a new isolate compiles only the entry and what it imports statically;
// and the split build still answers, lazily loaded features included, in workerd. The other
// suites run the sources, unbundled, so this is the one check of the build itself.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorker } from '../../scripts/build-worker.mjs';

const out = mkdtempSync(join(tmpdir(), 'attune-build-'));
let metafile: Metafile;
let mf: Miniflare | undefined;

beforeAll(async () => {
  ({ metafile } = await buildWorker({ outdir: out }));
}, 60_000);
afterAll(async () => {
  await mf?.dispose();
  rmSync(out, { recursive: true, force: true });
});

/** The outputs a new isolate loads before its first request: the entry and what it imports statically, transitively. */
function startupOutputs(): string[] {
  const outputs = metafile.outputs;
  const entry = Object.keys(outputs).find((o) => outputs[o]!.entryPoint === 'src/worker/index.ts')!;
  const seen = new Set<string>();
  const visit = (o: string) => {
    if (seen.has(o)) return;
    seen.add(o);
    for (const i of outputs[o]!.imports) if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(entry);
  return [...seen];
}

describe('the Worker build', () => {
  it("loads the router, site resolution and the admin guard at start-up, and every feature's routes only through import()", () => {
    const startup = new Set(startupOutputs().flatMap((o) => Object.keys(metafile.outputs[o]!.inputs)));
    for (const eager of ['src/worker/app.ts', 'src/worker/sites/site-middleware.ts', 'src/worker/shared/bearer-auth.ts'])
      expect(startup, eager).toContain(eager);
    for (const lazy of [
      'src/worker/decide/decide-routes.ts',
      'src/worker/decide/score-routes.ts',
      'src/worker/events/events-routes.ts',
      'src/worker/models/admin-routes.ts',
      'src/worker/sites/sites-routes.ts',
      'src/worker/proxy/proxy.ts',
      'src/worker/openapi/openapi-routes.ts',
      'src/worker/recommend/recommend-routes.ts',
      'src/worker/bidding/bid-routes.ts',
      'src/worker/bidding/page-routes.ts',
      'src/worker/experiments/admin-routes.ts',
      'src/worker/experiments/page-routes.ts',
    ])
      expect(startup, lazy).not.toContain(lazy);
    expect(Object.keys(metafile.outputs).filter((o) => o.endsWith('.js')).length).toBeGreaterThan(startupOutputs().length);
  });

  it('builds no zod schema at start-up: zod loads with the first request that validates something', () => {
    const startup = startupOutputs().flatMap((o) => Object.keys(metafile.outputs[o]!.inputs));
    expect(startup.filter((i) => i.includes('node_modules/zod/'))).toEqual([]);
  });

  it("wraps no function in keep_names' __name() call, which runs for every function at start-up", () => {
    const wrapped = readdirSync(out).filter((f) => f.endsWith('.js') && readFileSync(join(out, f), 'utf8').includes('__name('));
    expect(wrapped).toEqual([]);
  });

  it('answers in workerd, from the entry and from modules loaded on first use', async () => {
    const files = readdirSync(out).filter((f) => f.endsWith('.js') || f.endsWith('.wasm'));
    expect(files).toContain('index.js');
    mf = new Miniflare(
      convertV4MiniflareOptions({
        modulesRoot: out,
        modules: ['index.js', ...files.filter((f) => f !== 'index.js')].map((f) => ({
          type: f.endsWith('.wasm') ? ('CompiledWasm' as const) : ('ESModule' as const),
          path: join(out, f),
        })),
        compatibilityDate: '2026-11-01',
        kvNamespaces: ['KV'],
        queueProducers: { EVENTS: { queueName: 'attune-events' } },
        durableObjects: {
          CAMPAIGN_LEDGER: { className: 'CampaignLedger', useSQLite: true },
          CAMPAIGN_WRITER: { className: 'CampaignWriter', useSQLite: true },
          EXPERIMENTS: { className: 'ExperimentAggregator', useSQLite: true },
          MODEL_WRITER: { className: 'ModelWriter', useSQLite: true },
        },
        bindings: { SIGNING_SECRET: 'build-test-signing-secret-0123456789abcdef', MODEL_REFRESH_SECONDS: '5' },
      }),
    );
    const get = async (path: string, init?: RequestInit) => {
      const r = await mf!.dispatchFetch(`http://attune.test${path}`, init as never);
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    expect(await get('/healthz')).toEqual({ status: 200, body: { ok: true } });
    // the decision path, loaded at start-up: a bad body is a 400 naming the field
    const bad = await get('/v1/decide', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"slots":[]}' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { field: 'slots' } });
    const decided = await get('/v1/decide', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ slots: [{ id: 'cta', candidates: ['a', 'b'] }] }),
    });
    expect(decided.status).toBe(200);
    expect(decided.body.decisions).toHaveLength(1);
    // loaded on first use: the API document, the bidder, the proxy (off: no ORIGIN_URL, so a 404)
    const doc = await get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    const bid = await get('/openrtb2/bid', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(bid.status).toBeGreaterThanOrEqual(400);
    expect(bid.status).toBeLessThan(500);
    expect(bid.body).toHaveProperty('error');
    expect(await get('/nowhere')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    // the admin guard, loaded at start-up, ahead of the routes loaded on first use
    for (const path of ['/admin/models', '/admin/sites', '/admin/anything']) expect((await get(path)).status, path).toBe(503); // no ADMIN_TOKEN set
  }, 60_000);
});
