/**
 * End-to-end HTTP benchmark of POST /openrtb2/bid against local workerd: the Worker bundled as
 * `wrangler deploy` bundles it, in Miniflare (real KV, Durable Object ledger, Queue), on
 * loopback, bounded in time. The 5-imp request of the micro benchmark is sent plain and
 * gzipped, beside GET /healthz on the same Worker as the baseline. Correctness is checked
 * first (5 bids). Run: npm run bench:bid-http   (DURATION, CONNECTIONS override the defaults)
 */
import autocannon from 'autocannon';
import * as esbuild from 'esbuild';
import { rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { BENCH_EXCHANGE_KEY, benchWorkerOptions } from './worker-options.ts';
import { CAMPAIGNS, CTR, CVR, REQUEST_BODY } from '../micro/bid-fixtures.ts';
import { encodeLinearModel } from '../../src/core/linear-model.ts';
import { workerModules } from '../../scripts/bundle-size.ts';
import { encodeShadingModel } from '../../src/core/bidding/shading-model.ts';

const duration = Number(process.env.DURATION ?? 10);
const connections = Number(process.env.CONNECTIONS ?? 8);
const TOKEN = 'bench-admin-token-0123456789abcdef';

// Bundled like `wrangler deploy` does (esbuild, ESM, workerd conditions, minified);
// `preserveSymlinks` keeps resolution inside this checkout when node_modules is a symlink.
rmSync('dist/bid-bench', { recursive: true, force: true });
await esbuild.build({
  entryPoints: ['src/worker/index.ts'],
  outfile: 'dist/bid-bench/index.js',
  bundle: true,
  format: 'esm',
  minify: true,
  platform: 'neutral',
  conditions: ['workerd', 'worker', 'browser'],
  mainFields: ['module', 'main'],
  external: ['cloudflare:*', 'node:*'],
  preserveSymlinks: true,
  logLevel: 'error',
  loader: { '.wasm': 'copy' }, // the checksum kernel: a module of its own beside the script, as wrangler ships it
});

const mf = new Miniflare(
  convertV4MiniflareOptions({
    ...workerModules('dist/bid-bench'),
    ...benchWorkerOptions(TOKEN),
  }),
);
const base = (await mf.ready).toString().replace(/\/$/, '');
const admin = { authorization: `Bearer ${TOKEN}` };

// the fixture's models, re-encoded from their weights, and its campaigns
function linearBlob(m: typeof CTR): Uint8Array {
  const w = new Float32Array(m.weights.length);
  for (let i = 0; i < w.length; i++) w[i] = m.weights[i]! * m.scale[i % m.variants.length]!;
  return encodeLinearModel({ name: m.name, version: m.version, variants: m.variants, bits: m.bits, bias: m.bias, weights: w });
}
for (const blob of [linearBlob(CTR), linearBlob(CVR), encodeShadingModel('bid-shading', 'v1', new Map([['*', { a: -0.8, k: 2 }]]))]) {
  const r = await fetch(`${base}/admin/models`, { method: 'PUT', headers: admin, body: blob });
  if (!r.ok) throw new Error(`publish: ${r.status} ${await r.text()}`);
}
for (const c of CAMPAIGNS) {
  const r = await fetch(`${base}/admin/campaigns/${c.id}`, {
    method: 'PUT',
    headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify(c),
  });
  if (!r.ok) throw new Error(`campaign ${c.id}: ${r.status} ${await r.text()}`);
}

// Correctness first: five bids, priced by the models, shaded.
const headers = { 'content-type': 'application/json', 'x-openrtb-version': '2.6', authorization: `Bearer ${BENCH_EXCHANGE_KEY}` };
// (the first requests read each campaign's ledger once; allow them to warm up)
let first = await fetch(`${base}/openrtb2/bid`, { method: 'POST', headers, body: REQUEST_BODY });
for (let i = 0; i < 5 && first.status !== 200; i++) {
  await first.arrayBuffer();
  first = await fetch(`${base}/openrtb2/bid`, { method: 'POST', headers, body: REQUEST_BODY });
}
if (first.status !== 200) throw new Error(`no bid: ${first.status} ${first.headers.get('x-attune-nobid')}`);
const json = (await first.json()) as { seatbid: { bid: { price: number; ext: { source: string } }[] }[] };
const bids = json.seatbid.flatMap((s) => s.bid);
if (bids.length !== 5 || bids.some((b) => !(b.price > 0))) throw new Error(`bad response ${JSON.stringify(json)}`);
if (first.headers.get('x-attune-fallback')) throw new Error(`fallback: ${first.headers.get('x-attune-fallback')}`);
const stranger = await fetch(`${base}/openrtb2/bid`, {
  method: 'POST',
  headers: { ...headers, authorization: 'Bearer not-an-exchange-key' },
  body: REQUEST_BODY,
});
if (stranger.status !== 403) throw new Error(`a wrong key got ${stranger.status}, not 403`);
const gz = gzipSync(REQUEST_BODY);
const NO_ID = JSON.stringify({ ...JSON.parse(REQUEST_BODY), id: undefined });
const ANON = JSON.stringify({ ...JSON.parse(REQUEST_BODY), user: undefined });

type Result = autocannon.Result;
const load = (path: string, method: 'GET' | 'POST', body?: string | Buffer, extra: Record<string, string> = {}) =>
  new Promise<Result>((resolve, reject) => {
    autocannon({ url: `${base}${path}`, method, headers: { ...headers, ...extra }, body, duration, connections }, (err, r) =>
      err ? reject(err) : resolve(r),
    );
  });
await load('/openrtb2/bid', 'POST', REQUEST_BODY); // warm-up, discarded
const rows: [string, Result][] = [
  ['GET /healthz (baseline)', await load('/healthz', 'GET')],
  // the same body with its id removed: read, parsed, refused at the first field (HTTP + body cost)
  ['POST, 400 at once (baseline)', await load('/openrtb2/bid', 'POST', NO_ID)],
  // a stranger: refused before the body is read
  ["  403, not an exchange's key", await load('/openrtb2/bid', 'POST', REQUEST_BODY, { authorization: 'Bearer not-an-exchange-key' })],
  ['POST /openrtb2/bid (5 imps)', await load('/openrtb2/bid', 'POST', REQUEST_BODY)],
  ['  gzip in + gzip out', await load('/openrtb2/bid', 'POST', gz, { 'content-encoding': 'gzip', 'accept-encoding': 'gzip' })],
  // without a user id the frequency-capped campaign needs no ledger read on the request path
  ['  anonymous (no cap lookup)', await load('/openrtb2/bid', 'POST', ANON)],
];
console.log(`\nMiniflare (workerd), ${connections} connections, ${duration} s each, loopback`);
console.log('                               p50 ms   p99 ms    req/s   non-2xx');
for (const [title, r] of rows) {
  console.log(
    `${title.padEnd(30)} ${String(r.latency.p50).padStart(6)} ${String(r.latency.p99).padStart(8)} ${String(Math.round(r.requests.average)).padStart(8)} ${String(r.non2xx).padStart(9)}`,
  );
}
const [h, b] = [rows[1]![1], rows[3]![1]];
console.log(
  `bid vs POST baseline: p50 +${(b.latency.p50 - h.latency.p50).toFixed(2)} ms, p99 +${(b.latency.p99 - h.latency.p99).toFixed(2)} ms`,
);
console.log('\nreproduce: npm run bench:bid-http');
await mf.dispose();
