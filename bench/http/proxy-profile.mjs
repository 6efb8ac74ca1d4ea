#!/usr/bin/env node
// `npm run bench:proxy-profile`: where a personalized proxy page spends the Worker's CPU, by part.
//
// The Worker (built unminified, so each function keeps the `// src/…` comment of its module
// above it, in whichever of the built modules holds it) runs in Miniflare behind the same origin and page rules as bench:proxy; V8's
// sampling profiler (workerd's inspector, Chrome DevTools protocol) records N personalized
// requests of each page, one at a time. Every sample's self time is charged to the part its
// innermost frame of our code belongs to (PARTS below, by module path); samples in V8 or
// workerd themselves (HTMLRewriter's parser, fetch, KV, the GC) are charged to that innermost
// frame of ours when there is one, and to "runtime" otherwise. It says where to cut, not how
// long a request takes (a sampling profiler's clock runs while the thread waits for a core).
// Env: N (requests per page, default 400), INTERVAL_US (sampling interval, default 100), TOP
// (how many of the costliest functions of ours to list per page, default 12).
// The last line is JSON: per page, the share of CPU samples by part.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workerModules } from '../../scripts/bundle-size.ts';
import { proxyWorld } from './proxy-world.mjs';

const N = Number(process.env.N ?? 400);
const INTERVAL_US = Number(process.env.INTERVAL_US ?? 100);
const TOP = Number(process.env.TOP ?? 12);
const INSPECTOR_PORT = 9229 + 1000 + (process.pid % 1000); // one of our own: the machine is shared

/** Module path prefix → part; the first that matches wins. */
const PARTS = [
  ['src/worker/proxy/page-rewriter', 'rewriting (HTMLRewriter handlers)'],
  ['src/worker/proxy/item-template', 'rewriting (HTMLRewriter handlers)'],
  ['src/worker/proxy/recommend-slot', 'recommendation'],
  ['src/worker/recommend/', 'recommendation'],
  ['src/core/recs/', 'recommendation'],
  ['src/worker/proxy/origin', 'origin fetch and cache'],
  ['src/worker/proxy/', 'proxy plumbing (rules, headers, CSP)'],
  ['src/worker/log/', 'logging'],
  ['src/core/decision-record', 'logging'],
  ['src/core/hmac-sha256', 'cookie signing'],
  ['src/core/mac-text', 'cookie signing'],
  ['src/worker/shared/signing', 'cookie signing'],
  ['src/worker/visitor/', 'visitor (cookies, profile)'],
  ['src/core/profile', 'visitor (cookies, profile)'],
  ['src/worker/shared/config-store', 'KV reads (config, models)'],
  ['src/worker/shared/refresh-cache', 'KV reads (config, models)'],
  ['src/worker/models/', 'KV reads (config, models)'],
  ['src/worker/decide/', 'decision'],
  ['src/worker/experiments/', 'decision'],
  ['src/core/', 'decision'],
  ['src/worker/', 'other Worker code'],
  ['node_modules/hono', 'hono'],
  ['node_modules/zod', 'zod'],
];

const out = mkdtempSync(join(tmpdir(), 'attune-proxy-profile-'));
process.on('exit', () => rmSync(out, { recursive: true, force: true }));
const built = spawnSync('npx', ['--no-install', 'wrangler', 'deploy', '--dry-run', '--outdir', out], {
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  encoding: 'utf8',
});
if (built.status !== 0) throw new Error(`wrangler build failed:\n${built.stderr}`);
/** Per built module (the entry and the chunks split from it): [line, module path] of each `// src/…` comment, ascending. */
const marksOf = new Map();
for (const file of readdirSync(out).filter((f) => f.endsWith('.js'))) {
  const marks = [];
  readFileSync(join(out, file), 'utf8')
    .split('\n')
    .forEach((l, i) => {
      const m = /^\/\/ (?:\S*?\/)?((?:src|node_modules)\/\S+)/.exec(l); // paths relative to the tree, through any symlink
      if (m) marks.push([i, m[1].replace(/^.*node_modules\//, 'node_modules/')]);
    });
  marksOf.set(file, marks);
}
function moduleAt(file, line) {
  const marks = marksOf.get(file) ?? [];
  let lo = 0;
  let hi = marks.length - 1;
  let found = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (marks[mid][0] <= line) {
      found = marks[mid][1];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
const partOf = (path) => PARTS.find(([prefix]) => path.startsWith(prefix))?.[1] ?? 'other bundled code';

const { origin, mf, worker } = await proxyWorld({ modules: workerModules(out), extra: { inspectorPort: INSPECTOR_PORT } });

// correctness first: both pages come back personalized
for (const page of ['landing', 'shop']) {
  const html = await (await fetch(`${worker}/${page}/`, { headers: { accept: 'text/html' } })).text();
  if (!html.includes('.boot=') || !html.includes('data-attune-decision')) throw new Error(`${page}: not personalized`);
}

const targets = await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json/list`)).json();
const target = targets.find((t) => !/miniflare|entry|proxy/i.test(t.title ?? '')) ?? targets.at(-1);
const ws = new WebSocket(target.webSocketDebuggerUrl);
await new Promise((ok, fail) => {
  ws.onopen = ok;
  ws.onerror = fail;
});
let nextId = 1;
const pending = new Map();
ws.onmessage = (e) => {
  const msg = JSON.parse(String(e.data));
  if (msg.id && pending.has(msg.id)) {
    pending.get(msg.id)(msg);
    pending.delete(msg.id);
  }
};
function cdp(method, params = {}) {
  const id = nextId++;
  ws.send(JSON.stringify({ id, method, params }));
  return new Promise((ok, fail) => pending.set(id, (m) => (m.error ? fail(new Error(`${method}: ${m.error.message}`)) : ok(m.result))));
}

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

await cdp('Profiler.enable');
await cdp('Profiler.setSamplingInterval', { interval: INTERVAL_US });
const result = {};
for (const page of ['landing', 'shop']) {
  for (let i = 0; i < 50; i++) await get(`${worker}/${page}/`); // warm
  await cdp('Profiler.start');
  for (let i = 0; i < N; i++) await get(`${worker}/${page}/`);
  const { profile } = await cdp('Profiler.stop');
  result[page] = charge(profile);
}
ws.close();
await mf.dispose();
origin.close();

/** Self time per part, each sample charged to its innermost frame of our bundle. */
function charge(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const own = new Map(); // node id → [part, function] of the innermost bundled frame at or above it
  const ownOf = (id) => {
    if (own.has(id)) return own.get(id);
    const n = byId.get(id);
    const cf = n.callFrame;
    let r;
    const file = cf.url?.split('/').pop();
    if (cf.lineNumber >= 0 && marksOf.has(file)) {
      const mod = moduleAt(file, cf.lineNumber);
      r = [mod ? partOf(mod) : 'other bundled code', `${cf.functionName || '(anonymous)'} (${mod ?? '?'}:${cf.lineNumber + 1})`];
    } else if (cf.functionName === '(idle)') r = ['idle', null];
    else if (cf.functionName === '(garbage collector)') r = ['GC', null];
    else r = parent.has(id) ? ownOf(parent.get(id)) : ['runtime', null];
    own.set(id, r);
    return r;
  };
  const us = new Map();
  const fnUs = new Map();
  let busy = 0;
  profile.samples.forEach((s, i) => {
    const [part, fn] = ownOf(s);
    const d = profile.timeDeltas[i + 1] ?? INTERVAL_US;
    us.set(part, (us.get(part) ?? 0) + d);
    if (fn) fnUs.set(fn, (fnUs.get(fn) ?? 0) + d);
    if (part !== 'idle') busy += d;
  });
  us.delete('idle');
  const rows = [...us].sort((a, b) => b[1] - a[1]);
  const share = (v) => Math.round((1000 * v) / busy) / 1000;
  return {
    busyMsPerRequest: busy / 1000 / N,
    share: Object.fromEntries(rows.map(([k, v]) => [k, share(v)])),
    top: [...fnUs]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)
      .map(([k, v]) => [k, share(v)]),
  };
}

for (const page of ['landing', 'shop']) {
  const r = result[page];
  console.log(`\n${page}: ${N} personalized requests, ${r.busyMsPerRequest.toFixed(3)} ms of non-idle samples per request`);
  for (const [part, share] of Object.entries(r.share)) console.log(`  ${(share * 100).toFixed(1).padStart(5)} %  ${part}`);
  console.log(`  costliest functions of ours (samples in what they call included):`);
  for (const [fn, share] of r.top) console.log(`  ${(share * 100).toFixed(1).padStart(5)} %  ${fn}`);
}
console.log('reproduce: npm run bench:proxy-profile');
console.log(
  JSON.stringify(Object.fromEntries(Object.entries(result).map(([k, v]) => [k, { busyMsPerRequest: v.busyMsPerRequest, share: v.share }]))),
);
