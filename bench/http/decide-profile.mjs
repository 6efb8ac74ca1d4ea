#!/usr/bin/env node
// `npm run bench:decide-profile`: where the Worker's CPU goes on bench:http's cases, by part.
//
// The Worker, built unminified, runs in Miniflare with bench:http's bindings and the models of
// models/; V8's sampling profiler records N requests of each case (GET /healthz; POST
// /v1/decide with a model slot and a uniform slot for a returning visitor, logging on; the same
// with `track: false`), one at a time on one connection, and worker-profiler.mjs charges each
// sample to a part of our code. What decide costs beyond healthz is the difference of the rows.
// Env: N (requests per case, default 2000), INTERVAL_US (sampling interval, default 50), TOP
// (how many of the costliest functions of ours to list per case, default 15).
// The last line is JSON: per case, the non-idle ms per request and the share of samples by part.
import { readdirSync, readFileSync } from 'node:fs';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { compileSources } from '../../src/train/model-source.ts';
import { rawClient } from './raw-latency.ts';
import { benchWorkerOptions } from './worker-options.ts';
import { buildForProfile, charge, connectProfiler, INSPECTOR_PORT, PARTS, printCharge } from './worker-profiler.mjs';

const N = Number(process.env.N ?? 2000);
const INTERVAL_US = Number(process.env.INTERVAL_US ?? 50);
const TOP = Number(process.env.TOP ?? 15);
const TOKEN = 'bench-admin-token-0123456789abcdef';

const { modules, moduleAt } = buildForProfile();
const options = benchWorkerOptions(TOKEN);
const mf = new Miniflare(convertV4MiniflareOptions({ ...modules, ...options, inspectorPort: INSPECTOR_PORT }));
const client = rawClient(await mf.ready);

for (const file of readdirSync('models').filter((f) => f.endsWith('.json') && f !== 'segments.json')) {
  for (const { blob, name } of compileSources(JSON.parse(readFileSync(`models/${file}`, 'utf8')), file)) {
    const r = await client.send({
      method: 'PUT',
      path: '/admin/models',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: Buffer.from(blob),
    });
    if (r.status !== 200) throw new Error(`publishing ${name}: ${r.status} ${r.body}`);
  }
}

const decideBody = (track) =>
  JSON.stringify({
    page: { url: 'https://shop.example/pricing?utm_medium=cpc' },
    slots: [
      { id: 'hero', model: 'hero-headline' },
      { id: 'cta', candidates: ['a', 'b', 'c'] },
    ],
    ...(track === false ? { track } : {}),
  });
const headers = {
  'content-type': 'application/json',
  'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1',
};

// correctness first: the model decides hero (no fallback); its cookie makes the visitor a returning one
const fresh = await client.send({ method: 'POST', path: '/v1/decide', headers, body: decideBody() });
if (fresh.status !== 200 || fresh.headers['x-attune-fallback'] || !fresh.body.includes('"model":{'))
  throw new Error(`decide: ${fresh.status} ${fresh.headers['x-attune-fallback'] ?? ''} ${fresh.body}`);
const cookie = []
  .concat(fresh.headers['set-cookie'] ?? [])
  .map((c) => c.split(';')[0])
  .join('; ');
const cases = {
  healthz: { path: '/healthz', headers },
  decide: { method: 'POST', path: '/v1/decide', headers: { ...headers, cookie }, body: decideBody() },
  decideNoTrack: { method: 'POST', path: '/v1/decide', headers: { ...headers, cookie }, body: decideBody(false) },
};

const profiler = await connectProfiler(INSPECTOR_PORT, INTERVAL_US);
const result = {};
for (const [name, call] of Object.entries(cases)) {
  const run = async (n) => {
    for (let i = 0; i < n; i++) {
      const a = await client.send(call);
      if (a.status !== 200) throw new Error(`${name}: ${a.status} ${a.body}`);
    }
  };
  await run(300); // warm
  const profile = await profiler.record(() => run(N));
  result[name] = charge(profile, { moduleAt, parts: PARTS, n: N, top: TOP, intervalUs: INTERVAL_US });
}
profiler.close();
client.close();
await mf.dispose();

for (const [name, r] of Object.entries(result)) printCharge(`${name}: ${N} requests`, r);
console.log('reproduce: npm run bench:decide-profile');
console.log(
  JSON.stringify(Object.fromEntries(Object.entries(result).map(([k, v]) => [k, { busyMsPerRequest: v.busyMsPerRequest, share: v.share }]))),
);
