#!/usr/bin/env node
// `npm run bench:proxy`: what proxy mode adds, end to end on loopback, in one process.
//
//  1. TTFB and total time for both shared pages (../shared/data/html-pages), requested
//     alternately (a) from the origin directly, (b) through the Worker on a path no page rule
//     names (pass-through: the hop into workerd + fetch, no rewriting), (c) through the Worker
//     personalized (page rules: decision, cookies, HTMLRewriter, bootstrap; on the shop page also
//     a recommendation slot ranked by the item-item model). Medians and p90.
//     (c − b) is what personalization adds; (b − a) is the local proxy hop itself. (d) is (c)
//     with the origin's HTML served from the edge cache (origin-cache.ts) instead of the origin.
//  2. Rewrite throughput on a large page (the shop page's cards ×40, ≈ 480 KB) with autocannon,
//     pass-through vs personalized (2 slots) vs personalized with a slot on 320 elements.
//  3. The snippet's size.
// Correctness is checked before anything is timed. Env: N (requests per column, default 300),
// SECONDS (autocannon duration, default 8; 0 skips part 2). The last line is JSON: per page, the median TTFB
// personalization adds over pass-through (ms). CPU per MB passed through: proxy-cpu.bench.ts.
import { request, Agent } from 'node:http';
import autocannon from 'autocannon';
import { buildSnippet } from '../../scripts/build-snippet.mjs';
import { proxyWorld } from './proxy-world.mjs';

const N = Number(process.env.N ?? 300);
const SECONDS = Number(process.env.SECONDS ?? 8);
const { origin, originUrl, mf, worker, large } = await proxyWorld();

// --- correctness first
for (const page of ['landing', 'shop', 'large', 'large-many']) {
  const direct = await (await fetch(`${originUrl}/${page}/`)).text();
  const raw = page === 'large-many' ? direct : await (await fetch(`${worker}/raw/${page}/`)).text();
  const res = await fetch(`${worker}/${page}/`);
  const html = await res.text();
  if (raw !== direct) throw new Error(`${page}: pass-through changed the page`);
  if (!html.includes('.boot=') || !html.includes('data-attune-decision') || res.headers.get('cache-control') !== 'private, no-store') {
    throw new Error(`${page}: not personalized`);
  }
  if (page === 'shop' && ((html.match(/data-attune-item=/g) ?? []).length !== 4 || res.headers.has('x-attune-fallback'))) {
    throw new Error(`shop: the recommendation slot was not filled by the recs model (${res.headers.get('x-attune-fallback')})`);
  }
}
// the cached column is served from the edge cache once the first answer has stored the page
for (const page of ['landing', 'shop']) {
  await (await fetch(`${worker}/c/${page}/`)).text();
  await new Promise((r) => setTimeout(r, 200)); // stored in waitUntil
  const again = await fetch(`${worker}/c/${page}/`);
  await again.text();
  if (again.headers.get('x-attune-origin-cache') !== 'hit')
    throw new Error(`/c/${page}/: not from the edge cache (${again.headers.get('x-attune-origin-cache')})`);
}

// --- 1. TTFB and total, interleaved so drift on a busy machine hits every column alike
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function timed(url) {
  return new Promise((ok, fail) => {
    const t0 = process.hrtime.bigint();
    let ttfb = 0;
    const req = request(url, { agent, headers: { accept: 'text/html' } }, (res) => {
      res.once('data', () => {
        ttfb = Number(process.hrtime.bigint() - t0) / 1e6;
      });
      res.on('data', () => {});
      res.on('end', () => ok({ ttfb, total: Number(process.hrtime.bigint() - t0) / 1e6 }));
    });
    req.on('error', fail);
    req.end();
  });
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const fmt = (x) => x.toFixed(2).padStart(7);
const summary = {};
console.log(`\nproxy bench: ${N} requests per column, interleaved, keep-alive, loopback (${new Date().toISOString()})`);
console.log('page      column          TTFB p50   p90    total p50  p90   (ms)');
for (const page of ['landing', 'shop']) {
  const cols = {
    direct: `${originUrl}/${page}/`,
    'pass-through': `${worker}/raw/${page}/`,
    personalized: `${worker}/${page}/`,
    'pers., cached': `${worker}/c/${page}/`,
  };
  const res = Object.fromEntries(Object.keys(cols).map((k) => [k, { ttfb: [], total: [] }]));
  for (let i = 0; i < 100; i++) for (const url of Object.values(cols)) await timed(url); // warm up
  for (let i = 0; i < N; i++) {
    for (const [k, url] of Object.entries(cols)) {
      const t = await timed(url);
      res[k].ttfb.push(t.ttfb);
      res[k].total.push(t.total);
    }
  }
  for (const [k, r] of Object.entries(res)) {
    console.log(
      `${page.padEnd(9)} ${k.padEnd(14)} ${fmt(pct(r.ttfb, 0.5))} ${fmt(pct(r.ttfb, 0.9))}   ${fmt(pct(r.total, 0.5))} ${fmt(pct(r.total, 0.9))}`,
    );
  }
  const added = (m) => pct(res.personalized[m], 0.5) - pct(res['pass-through'][m], 0.5);
  summary[page] = {
    ttfbAdded: Math.round(added('ttfb') * 1000) / 1000,
    passThroughTtfb: Math.round(pct(res['pass-through'].ttfb, 0.5) * 1000) / 1000,
  };
  console.log(
    `${page.padEnd(9)} personalization adds (median): TTFB ${added('ttfb').toFixed(2)} ms, total ${added('total').toFixed(2)} ms; ` +
      `the local proxy hop (pass-through − direct): ${(pct(res['pass-through'].ttfb, 0.5) - pct(res.direct.ttfb, 0.5)).toFixed(2)} ms`,
  );
}

// --- 2. rewrite throughput on the large page (SECONDS=0 skips it)
if (SECONDS > 0) console.log(`\nrewrite throughput, ${(large.byteLength / 1024).toFixed(0)} KB page, ${SECONDS} s each, 4 connections`);
for (const [name, path] of SECONDS > 0
  ? [
      ['pass-through', '/raw/large/'],
      ['2 slots', '/large/'],
      ['2 slots, 321 elements', '/large-many/'],
    ]
  : []) {
  const r = await autocannon({ url: `${worker}${path}`, connections: 4, duration: SECONDS, headers: { accept: 'text/html' } });
  const mbps = r.throughput.average / 1e6;
  console.log(
    `${name.padEnd(22)} ${r.requests.average.toFixed(0).padStart(6)} req/s  ${mbps.toFixed(1).padStart(6)} MB/s  latency p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  errors ${r.errors + r.non2xx}`,
  );
}

// --- 3. snippet
const s = await buildSnippet();
console.log(`\nsnippet: ${s.code.length} bytes minified, ${s.gzipBytes} bytes gzipped (budget 3072)`);
console.log('\nreproduce: npm run bench:proxy   (N=300 SECONDS=8 by default)');
agent.destroy();
await mf.dispose();
origin.close();
console.log(JSON.stringify(summary));
process.exit(0);
