#!/usr/bin/env node
/**
 * End-to-end HTTP benchmark against local workerd (wrangler dev, loopback only, bounded):
 * POST /v1/decide (one model slot + one uniform slot, returning visitor with a profile cookie)
 * side by side with GET /healthz (the same Worker doing no decision) as the baseline, so the
 * difference is the decision path's own cost. Prints p50/p99 latency and throughput.
 * Run: npm run bench:http   (PORT, DURATION and CONNECTIONS env vars override the defaults)
 */
import autocannon from 'autocannon';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const port = Number(process.env.PORT ?? 8795);
const duration = Number(process.env.DURATION ?? 10);
const connections = Number(process.env.CONNECTIONS ?? 8);
const base = `http://127.0.0.1:${port}`;
const state = mkdtempSync(join(tmpdir(), 'attune-bench-'));
process.env.WRANGLER_SEND_METRICS = 'false';

const seeded = spawnSync(process.execPath, ['src/train/publish.ts', '--persist', join(state, 'v3')], { stdio: 'inherit' });
if (seeded.status !== 0) process.exit(1);
const dev = spawn('npx', ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', state, '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
const stop = () => { try { process.kill(-dev.pid, 'SIGTERM'); } catch {} rmSync(state, { recursive: true, force: true }); };
process.on('exit', stop);

async function waitReady() {
  for (let i = 0; i < 120; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) return; } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('wrangler dev did not start');
}

const body = JSON.stringify({ page: { url: 'https://shop.example/pricing?utm_medium=cpc' }, slots: [{ id: 'hero', model: 'hero-headline' }, { id: 'cta', candidates: ['a', 'b', 'c'] }] });
const headers = { 'content-type': 'application/json', 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1' };

await waitReady();
// Correctness first: a real decision from the seeded model, and a profile cookie to replay.
const first = await fetch(`${base}/v1/decide`, { method: 'POST', headers, body });
const json = await first.json();
if (first.status !== 200 || json.decisions?.[0]?.source === 'fallback' || !json.decisions[0].model?.version) throw new Error(`bad decision: ${JSON.stringify(json)}`);
const cookie = first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');

const runOne = (title, opts) => new Promise((resolve, reject) => {
  autocannon({ url: `${base}${opts.path}`, method: opts.method, headers: { ...headers, cookie }, body: opts.body, duration, connections }, (err, r) => (err ? reject(err) : resolve({ title, r })));
});
const results = [];
for (const [title, opts] of [['GET /healthz (baseline)', { path: '/healthz', method: 'GET' }], ['POST /v1/decide', { path: '/v1/decide', method: 'POST', body }]]) {
  await runOne(title, { ...opts, }).then((x) => results.push(x)); // warm-up pass is the first second of each run
}
console.log(`\n${connections} connections, ${duration} s each, loopback, wrangler dev (workerd)`);
console.log('                               p50 ms   p99 ms    req/s   non-2xx');
for (const { title, r } of results) {
  console.log(`${title.padEnd(30)} ${String(r.latency.p50).padStart(6)} ${String(r.latency.p99).padStart(8)} ${String(Math.round(r.requests.average)).padStart(8)} ${String(r.non2xx).padStart(9)}`);
}
const [h, d] = results.map((x) => x.r);
console.log(`decide vs baseline: p50 +${(d.latency.p50 - h.latency.p50).toFixed(2)} ms, p99 +${(d.latency.p99 - h.latency.p99).toFixed(2)} ms, throughput ${(d.requests.average / h.requests.average).toFixed(2)}x`);
console.log('\nreproduce: npm run bench:http');
stop();
process.exit(0);
