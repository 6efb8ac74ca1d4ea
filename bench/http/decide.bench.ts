/**
 * End-to-end HTTP benchmark against local workerd: the built Worker (as `wrangler deploy`
 * bundles it) in Miniflare, on loopback, bounded in time. POST /v1/decide (a model slot and a
 * uniform slot, returning visitor with a signed profile cookie) runs beside GET /healthz on the
 * same Worker as the baseline, so the difference is the decision path's own cost. Workers
 * freeze clocks during a request, so server time cannot be read inside; this is the whole
 * round trip. Run: npm run bench:http   (DURATION, CONNECTIONS override the defaults)
 */
import autocannon from 'autocannon';
import { readdirSync, readFileSync } from 'node:fs';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { benchWorkerOptions } from './worker-options.ts';
import { compileSources } from '../../src/train/model-source.ts';
import { buildWorker, workerModules } from '../../scripts/bundle-size.ts';

const duration = Number(process.env.DURATION ?? 10);
const connections = Number(process.env.CONNECTIONS ?? 8);
const TOKEN = 'bench-admin-token';

const mf = new Miniflare(
  convertV4MiniflareOptions({
    ...workerModules('dist', buildWorker('dist')),
    ...benchWorkerOptions(TOKEN),
  }),
);
const base = (await mf.ready).toString().replace(/\/$/, '');

for (const file of readdirSync('models').filter((f) => f.endsWith('.json') && f !== 'segments.json')) {
  for (const { blob, name } of compileSources(JSON.parse(readFileSync(`models/${file}`, 'utf8')), file)) {
    const r = await fetch(`${base}/admin/models`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}` }, body: blob });
    if (!r.ok) throw new Error(`publishing ${name}: ${r.status} ${await r.text()}`);
  }
}

const body = JSON.stringify({
  page: { url: 'https://shop.example/pricing?utm_medium=cpc' },
  slots: [
    { id: 'hero', model: 'hero-headline' },
    { id: 'cta', candidates: ['a', 'b', 'c'] },
  ],
});
const headers = {
  'content-type': 'application/json',
  'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1',
};

// Correctness first: a model decision (not a fallback), and a profile cookie to replay.
const first = await fetch(`${base}/v1/decide`, { method: 'POST', headers, body });
const json = (await first.json()) as { decisions: { source: string; model: { version: string } | null }[] };
if (first.status !== 200 || json.decisions[0]!.source === 'fallback' || !json.decisions[0]!.model?.version)
  throw new Error(`bad decision: ${JSON.stringify(json)}`);
const cookie = first.headers
  .getSetCookie()
  .map((c) => c.split(';')[0])
  .join('; ');

type Result = autocannon.Result;
const load = (path: string, method: 'GET' | 'POST', payload?: string) =>
  new Promise<Result>((resolve, reject) => {
    autocannon({ url: `${base}${path}`, method, headers: { ...headers, cookie }, body: payload, duration, connections }, (err, r) =>
      err ? reject(err) : resolve(r),
    );
  });
await load('/healthz', 'GET'); // warm-up, discarded
const rows: [string, Result][] = [
  ['GET /healthz (baseline)', await load('/healthz', 'GET')],
  ['POST /v1/decide', await load('/v1/decide', 'POST', body)],
];
console.log(`\nMiniflare (workerd), ${connections} connections, ${duration} s each, loopback`);
console.log('                               p50 ms   p99 ms    req/s   non-2xx');
for (const [title, r] of rows) {
  console.log(
    `${title.padEnd(30)} ${String(r.latency.p50).padStart(6)} ${String(r.latency.p99).padStart(8)} ${String(Math.round(r.requests.average)).padStart(8)} ${String(r.non2xx).padStart(9)}`,
  );
}
const [h, d] = [rows[0]![1], rows[1]![1]];
console.log(
  `decide vs baseline: p50 +${(d.latency.p50 - h.latency.p50).toFixed(2)} ms, p99 +${(d.latency.p99 - h.latency.p99).toFixed(2)} ms; ` +
    `mean time per request at saturation ${(1000 / d.requests.average).toFixed(3)} vs ${(1000 / h.requests.average).toFixed(3)} ms`,
);
console.log('\nreproduce: npm run bench:http');
await mf.dispose();
