#!/usr/bin/env node
// `npm run bench:proxy-profile`: where a personalized proxy page spends the Worker's CPU, by part.
//
// The Worker, built unminified, runs in Miniflare behind the same origin and page rules as
// bench:proxy; V8's sampling profiler records N personalized requests of each page, one at a
// time, and worker-profiler.mjs charges each sample to a part of our code.
// Env: N (requests per page, default 400), INTERVAL_US (sampling interval, default 100), TOP
// (how many of the costliest functions of ours to list per page, default 12).
// The last line is JSON: per page, the share of CPU samples by part.
import { request, Agent } from 'node:http';
import { buildForProfile, charge, connectProfiler, INSPECTOR_PORT, PARTS, printCharge } from './worker-profiler.mjs';
import { proxyWorld } from './proxy-world.mjs';

const N = Number(process.env.N ?? 400);
const INTERVAL_US = Number(process.env.INTERVAL_US ?? 100);
const TOP = Number(process.env.TOP ?? 12);

const { modules, moduleAt } = buildForProfile();
const { origin, mf, worker } = await proxyWorld({ modules, extra: { inspectorPort: INSPECTOR_PORT } });

// correctness first: both pages come back personalized
for (const page of ['landing', 'shop']) {
  const html = await (await fetch(`${worker}/${page}/`, { headers: { accept: 'text/html' } })).text();
  if (!html.includes('.boot=') || !html.includes('data-attune-decision')) throw new Error(`${page}: not personalized`);
}

const profiler = await connectProfiler(INSPECTOR_PORT, INTERVAL_US);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const get = (url) =>
  new Promise((ok, fail) => {
    const req = request(url, { agent, headers: { accept: 'text/html' } }, (res) => {
      res.on('data', () => {});
      res.on('end', ok);
    });
    req.on('error', fail);
    req.end();
  });

const result = {};
for (const page of ['landing', 'shop']) {
  for (let i = 0; i < 50; i++) await get(`${worker}/${page}/`); // warm
  const profile = await profiler.record(async () => {
    for (let i = 0; i < N; i++) await get(`${worker}/${page}/`);
  });
  result[page] = charge(profile, { moduleAt, parts: PARTS, n: N, top: TOP, intervalUs: INTERVAL_US });
}
profiler.close();
await mf.dispose();
origin.close();

for (const page of ['landing', 'shop']) printCharge(`${page}: ${N} personalized requests`, result[page]);
console.log('reproduce: npm run bench:proxy-profile');
console.log(
  JSON.stringify(Object.fromEntries(Object.entries(result).map(([k, v]) => [k, { busyMsPerRequest: v.busyMsPerRequest, share: v.share }]))),
);
