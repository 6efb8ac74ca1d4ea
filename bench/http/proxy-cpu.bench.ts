/**
 * What proxy mode costs per byte it passes through untouched: workerd's CPU (time on a core,
 * from /proc: workerd-cpu.ts) per MB of a large non-HTML response from the origin, for an
 * origin that writes it in 1 KB chunks and one that writes 64 KB chunks (the proxy's work per
 * chunk shows in the first). Two Worker processes side by side, each in its own Miniflare
 * (own workerd), both fetching the same local origin:
 *   - attune, the built Worker with ORIGIN_URL set, on a path no page rule names;
 *   - a bare Worker whose fetch handler returns `fetch(origin + path)` as it is: the platform's
 *     own cost of streaming the bytes through, the floor any proxy pays.
 * Measured in interleaved rounds (every worker × chunk size in turn), medians per MB, and
 * attune's ratio to the bare Worker. Every body is checked (length and hash) before timing.
 * Then what a personalized page costs: the shop page's cards ×40 (≈ 480 KB of HTML, sent in
 * 16 KB writes), through attune personalized (2 slots: the rewriter, the guarded page stream,
 * the decision) and passed through (no rule), CPU per page.
 * The last line is JSON. Run: npm run bench:proxy-cpu [-- --mb 8 --rounds 6 --per-round 2]
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { buildWorker, workerModules } from '../../scripts/bundle-size.ts';
import { cliArgs } from '../../src/train/cli.ts';
import { cpuMsBetween, onCpu, workerdChildren } from '../workerd-cpu.ts';
import { median, ms3 } from './raw-latency.ts';
import { benchWorkerOptions } from './worker-options.ts';

const { values } = cliArgs({
  name: 'bench:proxy-cpu',
  usage: 'npm run bench:proxy-cpu [-- --mb N --rounds N --per-round N]',
  summary:
    "workerd's CPU per MB that proxy mode passes through untouched, attune against a bare fetch-through Worker, for 1 KB and 64 KB origin chunks.",
  options: {
    mb: { type: 'number', min: 0.001, default: 8, help: 'the size of the response, in MB' },
    rounds: { type: 'integer', min: 1, default: 6, help: 'interleaved rounds of every Worker × chunk size' },
    'per-round': { type: 'integer', min: 1, default: 2, help: 'requests of each case per round' },
  },
});
const MB = 1024 * 1024;
const size = Math.round(values.mb * MB);
const rounds = values.rounds;
const perRound = values['per-round'];
const CHUNKS = [1024, 64 * 1024];

// --- the origin: GET /bytes/<chunk> answers `size` bytes of octet-stream in `chunk`-byte writes
const payload = Buffer.alloc(size);
for (let i = 0; i < size; i++) payload[i] = (i * 2654435761) >>> 24;
const digest = createHash('sha256').update(payload).digest('hex');
// the shop page with its cards ×40, as bench:proxy's large page
const shopText = readFileSync(join(resolve(process.cwd(), '../shared/data/html-pages'), 'startbootstrap-shop-homepage/index.html'), 'utf8');
const cardsStart = shopText.indexOf('<div class="col mb-5">');
const cardsEnd = shopText.lastIndexOf('</div>\n            </div>\n        </section>');
const PAGES = {
  small: Buffer.from(shopText), // the page as it is, ≈ 16 KB
  large: Buffer.from(shopText.slice(0, cardsStart) + shopText.slice(cardsStart, cardsEnd).repeat(40) + shopText.slice(cardsEnd)),
};
type PageName = keyof typeof PAGES;
const PAGE_CHUNK = 16 * 1024;

const origin = createServer(async (req, res) => {
  const named = /^\/(?:raw-)?page\/(small|large)\/$/.exec(req.url ?? '')?.[1] as PageName | undefined;
  if (named !== undefined) {
    const page = PAGES[named];
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }); // chunked
    for (let at = 0; at < page.byteLength; at += PAGE_CHUNK) {
      if (!res.write(page.subarray(at, at + PAGE_CHUNK))) await new Promise((ok) => res.once('drain', ok));
    }
    return res.end();
  }
  const chunk = Number(/^\/bytes\/(\d+)$/.exec(req.url ?? '')?.[1]);
  if (!chunk) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' }); // chunked: no length
  for (let at = 0; at < size; at += chunk) {
    if (!res.write(payload.subarray(at, at + chunk))) await new Promise((ok) => res.once('drain', ok));
  }
  res.end();
});
await new Promise<void>((ok) => origin.listen(0, '127.0.0.1', ok));
const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;

// --- the two Workers, each its own workerd process
const BARE = `export default { fetch(req, env) { const u = new URL(req.url); return fetch(env.ORIGIN_URL + u.pathname + u.search); } };\n`;
async function start(options: Parameters<typeof convertV4MiniflareOptions>[0]) {
  const before = new Set(workerdChildren());
  const mf = new Miniflare(convertV4MiniflareOptions(options));
  const url = await mf.ready;
  const pid = workerdChildren().find((p) => !before.has(p));
  if (pid === undefined) throw new Error('no new workerd process');
  return { mf, pid, url };
}
const attuneOptions = benchWorkerOptions('bench-admin-token-0123456789abcdef');
const workers = {
  attune: await start({
    ...workerModules('dist', buildWorker('dist')),
    ...attuneOptions,
    bindings: { ...attuneOptions.bindings, ORIGIN_URL: originUrl },
  }),
  bare: await start({
    compatibilityDate: '2026-11-01',
    modules: [{ type: 'ESModule', path: 'bare.mjs', contents: BARE }],
    bindings: { ORIGIN_URL: originUrl },
  }),
};
type Name = keyof typeof workers;
const names = Object.keys(workers) as Name[];
const kv = (await workers.attune.mf.getKVNamespace('KV')) as unknown as { put(key: string, value: string): Promise<void> };
await kv.put(
  'config/page-rules',
  JSON.stringify({
    version: 'bench',
    pages: [
      {
        path: '/page/*',
        slots: [
          { id: 'hero', selector: 'header h1', candidates: ['sale'], variants: { sale: { text: 'Winter sale' } } },
          { id: 'cta', selector: 'nav .btn', candidates: ['cart'], variants: { cart: { text: 'Basket' } } },
        ],
      },
    ],
  }),
);

/** One GET of `chunk`-written bytes through `name`: CPU ms of its workerd and wall ms; the body is checked. */
async function once(name: Name, chunk: number, check: boolean): Promise<{ cpu: number; wall: number }> {
  const w = workers[name];
  const c0 = onCpu(w.pid);
  const t0 = process.hrtime.bigint();
  const res = await fetch(new URL(`/bytes/${chunk}`, w.url));
  const body = new Uint8Array(await res.arrayBuffer());
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = cpuMsBetween(c0, onCpu(w.pid));
  if (res.status !== 200 || body.byteLength !== size)
    throw new Error(`${name}, ${chunk} B chunks: status ${res.status}, ${body.byteLength} bytes`);
  if (check && res.headers.get('content-type') !== 'application/octet-stream')
    throw new Error(`${name}: content-type ${res.headers.get('content-type')}`);
  if (check && createHash('sha256').update(body).digest('hex') !== digest) throw new Error(`${name}, ${chunk} B chunks: the bytes changed`);
  return { cpu, wall };
}

for (const name of names) {
  for (const chunk of CHUNKS) await once(name, chunk, true); // correctness, and a warm-up
}

const cases = names.flatMap((name) => CHUNKS.map((chunk) => ({ name, chunk, cpuPerMb: [] as number[], mbPerS: [] as number[] })));
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < cases.length; k++) {
    const c = cases[(k + r) % cases.length]!;
    for (let i = 0; i < perRound; i++) {
      const { cpu, wall } = await once(c.name, c.chunk, false);
      c.cpuPerMb.push(cpu / (size / MB));
      c.mbPerS.push(size / MB / (wall / 1000));
    }
  }
}

console.log(
  `\nproxy pass-through of a ${size / MB} MB application/octet-stream body, workerd CPU (time on a core) per MB, ${rounds} interleaved rounds × ${perRound}`,
);
console.log('worker   origin chunks   CPU ms/MB   MB/s (wall, client included)');
const out: Record<string, number> = {};
for (const c of cases) {
  const cpu = median(c.cpuPerMb);
  out[`${c.name}${c.chunk / 1024}k`] = ms3(cpu);
  console.log(
    `${c.name.padEnd(8)} ${`${c.chunk / 1024} KB`.padStart(13)} ${cpu.toFixed(3).padStart(11)} ${median(c.mbPerS).toFixed(0).padStart(6)}`,
  );
}
for (const chunk of CHUNKS) {
  const k = chunk / 1024;
  console.log(`attune / bare, ${k} KB chunks: ${(out[`attune${k}k`]! / out[`bare${k}k`]!).toFixed(2)}× the CPU per MB`);
}
console.log('reproduce: npm run bench:proxy-cpu');

/** One page through attune, personalized or passed through: CPU ms of its workerd; the body is checked. */
async function pageOnce(name: PageName, personalize: boolean): Promise<number> {
  const w = workers.attune;
  const c0 = onCpu(w.pid);
  const res = await fetch(new URL(`/${personalize ? '' : 'raw-'}page/${name}/`, w.url), { headers: { accept: 'text/html' } });
  const html = await res.text();
  const cpu = cpuMsBetween(c0, onCpu(w.pid));
  const personalized = html.includes('data-attune-decision') && html.includes('Winter sale');
  if (res.status !== 200 || personalized !== personalize || !html.trimEnd().endsWith('</html>'))
    throw new Error(`${name} page: status ${res.status}, ${html.length} characters, personalized ${personalized}`);
  return cpu;
}
const pageCases = (Object.keys(PAGES) as PageName[]).flatMap((name) =>
  [true, false].map((personalize) => ({ name, personalize, cpu: [] as number[] })),
);
for (const c of pageCases) for (let i = 0; i < 3; i++) await pageOnce(c.name, c.personalize); // warm-up
for (let r = 0; r < rounds * 5; r++) {
  for (let k = 0; k < pageCases.length; k++) {
    const c = pageCases[(k + r) % pageCases.length]!;
    for (let i = 0; i < perRound; i++) c.cpu.push(await pageOnce(c.name, c.personalize));
  }
}
console.log(`\nHTML pages in ${PAGE_CHUNK / 1024} KB writes through attune, workerd CPU per page (median of ${rounds * 5 * perRound})`);
const pageOut: Record<string, number> = {};
for (const c of pageCases) {
  const key = `${c.name}${c.personalize ? 'Personalized' : 'PassThrough'}`;
  pageOut[key] = ms3(median(c.cpu));
  console.log(
    `${`${c.name} (${(PAGES[c.name].byteLength / 1024).toFixed(0)} KB)`.padEnd(16)} ${(c.personalize ? 'personalized (2 slots)' : 'passed through').padEnd(24)} ${pageOut[key]!.toFixed(3).padStart(8)} ms`,
  );
}
for (const w of Object.values(workers)) await w.mf.dispose();
origin.close();
console.log(JSON.stringify({ cpuMsPerMb: out, pageCpuMs: pageOut }));
