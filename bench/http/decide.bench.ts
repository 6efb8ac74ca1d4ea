/**
 * `npm run bench:http`: what a decision costs over HTTP, as raw per-request latencies (no
 * rounding) on one keep-alive connection, one request at a time, against the built Worker (as
 * `wrangler deploy` bundles it) in Miniflare (local workerd) on loopback. The cases:
 *   - `healthz`: GET /healthz, the same Worker's cheapest route: the baseline;
 *   - `decide`: POST /v1/decide, a model slot and a uniform slot, a returning visitor (profile
 *     cookie replayed), logging on: records go to the queue, coalesced per isolate;
 *   - `decideNoTrack`: the same with `track: false` (decided, nothing logged, no cookie);
 *   - `decideSites`: `decide` on a second Worker where sites are configured (docs/sites.md), to
 *     a named site (its own models, its Host resolved per request): the cost of sites against
 *     the single-site `decide` in the same run;
 *   - `ioFloor`: the platform's part of a decision: a bare Worker (io-floor-worker.js) taking
 *     `decide`'s request and answering the bytes a real decision answered, with no attune code.
 *     What `decide` costs beyond it is attune's own work; what it costs beyond healthz, the
 *     platform's (a POST body, a larger answer, cookies).
 * They run in interleaved rounds (every case `--per-round` times in turn, the order rotating),
 * so the machine's slow stretches land on all of them alike; percentiles are over all rounds,
 * ratios are to healthz. Workers freeze clocks during a request, so this is the whole round trip.
 * Every answer is checked before timing, and the log end to end after it: the Worker consumes
 * its own queue into a local R2 bucket, as `npm start` does (in the same workerd, so its work
 * lands on the timed requests of every case alike), and every record queued must be in R2
 * exactly once (none for `track: false`). The last line is JSON (ms; `log` in records).
 * Run: npm run bench:http [-- --rounds 20 --per-round 200 --warm 500]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { buildWorker, workerModules } from '../../scripts/bundle-size.ts';
import { cliArgs } from '../../src/train/cli.ts';
import { compileSources } from '../../src/train/model-source.ts';
import { type Answer, type Call, median, ms3, percentiles, rawClient } from './raw-latency.ts';
import { benchWorkerOptions } from './worker-options.ts';

const { values } = cliArgs({
  name: 'bench:http',
  usage: 'npm run bench:http [-- --rounds N --per-round N --warm N]',
  summary:
    'Raw per-request latencies of GET /healthz, POST /v1/decide and the same with track: false, over HTTP against the built Worker in Miniflare, in interleaved rounds.',
  options: {
    rounds: { type: 'integer', min: 1, default: 20, help: 'interleaved rounds of every case' },
    'per-round': { type: 'integer', min: 1, default: 200, help: 'requests of each case per round' },
    warm: { type: 'integer', min: 0, default: 500, help: 'untimed requests of each case first' },
  },
});
const rounds = values.rounds;
const perRound = values['per-round'];
const warm = values.warm;
const TOKEN = 'bench-admin-token-0123456789abcdef';

const base = workerModules('dist', buildWorker('dist'));
const options = benchWorkerOptions(TOKEN);
// ATTUNE_DEV turns on GET /__attune/queue (queue-stats.ts), whose count of records sent checks the logging;
// the consumer (wrangler.toml's, delivering within a second) writes them to LOG, where they are counted
const mf = new Miniflare(
  convertV4MiniflareOptions({
    ...base,
    ...options,
    r2Buckets: ['LOG'],
    queueConsumers: { 'attune-events': { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 8 } },
    bindings: { ...options.bindings, ATTUNE_DEV: '1' },
  }),
);
const url = (await mf.ready).toString().replace(/\/$/, '');
// the same Worker with sites: the default one and `shop`, whose models are its own
const mfSites = new Miniflare(convertV4MiniflareOptions({ ...base, ...options, bindings: { ...options.bindings, ATTUNE_DEV: '1' } }));
const urlSites = (await mfSites.ready).toString().replace(/\/$/, '');
const SITE_HOST = 'shop.bench';
const admin = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
for (const site of [
  { id: 'default', hostnames: [new URL(urlSites).hostname] },
  { id: 'shop', hostnames: [SITE_HOST] },
]) {
  const r = await fetch(`${urlSites}/admin/sites`, { method: 'POST', headers: admin, body: JSON.stringify(site) });
  if (r.status !== 201) throw new Error(`creating site ${site.id}: ${r.status} ${await r.text()}`);
}

/** Publishes models/ through the admin API (on `host`, the site it names, when given). */
async function publishAll(to: string, host?: string): Promise<void> {
  const client = rawClient(to);
  for (const file of readdirSync('models').filter((f) => f.endsWith('.json') && f !== 'segments.json')) {
    for (const { blob, name } of compileSources(JSON.parse(readFileSync(`models/${file}`, 'utf8')), file)) {
      const r = await client.send({
        method: 'PUT',
        path: '/admin/models',
        headers: { authorization: `Bearer ${TOKEN}`, ...(host ? { host } : {}) },
        body: Buffer.from(blob),
      });
      if (r.status !== 200) throw new Error(`publishing ${name}: ${r.status} ${r.body}`);
    }
  }
  client.close();
}
await publishAll(url);
await publishAll(urlSites, SITE_HOST);

const CANDIDATES = ['a', 'b', 'c'];
const decideBody = (track?: false) =>
  JSON.stringify({
    page: { url: 'https://shop.example/pricing?utm_medium=cpc' },
    slots: [
      { id: 'hero', model: 'hero-headline' },
      { id: 'cta', candidates: CANDIDATES },
    ],
    ...(track === false ? { track } : {}),
  });
const headers = {
  'content-type': 'application/json',
  'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1',
};
const client = rawClient(url);
const clientSites = rawClient(urlSites);

interface Decided {
  decisions?: { slot: string; variant: string | null; source: string; model: { version: string } | null }[];
}
/** A model decision for hero (not a fallback) and one of the candidates for cta, or why not. */
function wrongDecision(a: Answer): string | null {
  if (a.status !== 200) return `status ${a.status}: ${a.body}`;
  if (a.headers['x-attune-fallback']) return `fallback: ${a.headers['x-attune-fallback']}`;
  const d = (JSON.parse(a.body) as Decided).decisions;
  const hero = d?.find((x) => x.slot === 'hero');
  const cta = d?.find((x) => x.slot === 'cta');
  if (d?.length !== 2 || !hero || hero.source === 'fallback' || !hero.model?.version) return `hero not decided by its model: ${a.body}`;
  if (!cta || !CANDIDATES.includes(cta.variant ?? '')) return `cta not one of its candidates: ${a.body}`;
  return null;
}
const queueCounts = async (wait = 0, c = client) =>
  JSON.parse((await c.send({ path: `/__attune/queue?wait=${wait}` })).body) as { sent: number; acked: number };
const sentRecords = async (c = client) => (await queueCounts(0, c)).sent;

/** What is read of the R2 binding (Miniflare's own type of it does not resolve here). */
interface LogBucket {
  list(o: { prefix: string; cursor?: string }): Promise<{ objects: { key: string }[]; truncated: boolean; cursor?: string }>;
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

/** Every record in the local R2 log, by id: how many copies of each. */
async function loggedIds(): Promise<Map<string, number>> {
  const bucket = (await mf.getR2Bucket('LOG')) as unknown as LogBucket;
  const copies = new Map<string, number>();
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: 'log/', ...(cursor ? { cursor } : {}) });
    for (const o of page.objects) {
      const text = gunzipSync(Buffer.from(await (await bucket.get(o.key))!.arrayBuffer())).toString('utf8');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        const r = JSON.parse(line) as { type: string; id: string };
        copies.set(`${r.type}:${r.id}`, (copies.get(`${r.type}:${r.id}`) ?? 0) + 1);
      }
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return copies;
}
const settle = () => new Promise((r) => setTimeout(r, 400)); // decision records are flushed FLUSH_MS (250 ms) after the first

// --- correctness first: a new visitor gets a profile cookie, which the timed requests replay
const fresh = await client.send({ method: 'POST', path: '/v1/decide', headers, body: decideBody() });
const freshWrong = wrongDecision(fresh);
if (freshWrong) throw new Error(`decide: ${freshWrong}`);
const cookie = ([] as string[])
  .concat(fresh.headers['set-cookie'] ?? [])
  .map((c) => c.split(';')[0])
  .join('; ');
if (!cookie) throw new Error('decide set no visitor cookie');
const siteHeaders = { ...headers, host: SITE_HOST };
const freshSite = await clientSites.send({ method: 'POST', path: '/v1/decide', headers: siteHeaders, body: decideBody() });
const freshSiteWrong = wrongDecision(freshSite);
if (freshSiteWrong) throw new Error(`decide on a site: ${freshSiteWrong}`);
const siteCookie = ([] as string[])
  .concat(freshSite.headers['set-cookie'] ?? [])
  .map((c) => c.split(';')[0])
  .join('; ');

// the platform's part of a decision: a bare Worker taking the same request and answering the
// bytes a returning visitor's decision answered (io-floor-worker.js)
const answerOf = (a: typeof fresh) => ({
  body: a.body,
  cookies: ([] as string[]).concat(a.headers['set-cookie'] ?? []),
  headers: Object.entries(a.headers).filter(
    (e): e is [string, string] =>
      typeof e[1] === 'string' && !['set-cookie', 'content-length', 'date', 'connection', 'keep-alive'].includes(e[0]),
  ),
});
const returning = await client.send({ method: 'POST', path: '/v1/decide', headers: { ...headers, cookie }, body: decideBody() });
if (wrongDecision(returning)) throw new Error(`decide (returning visitor): ${wrongDecision(returning)}`);
const mfFloor = new Miniflare(
  convertV4MiniflareOptions({
    compatibilityDate: options.compatibilityDate,
    modules: true,
    scriptPath: 'bench/http/io-floor-worker.js',
    bindings: { ANSWER: JSON.stringify(answerOf(returning)) },
  }),
);
const clientFloor = rawClient(await mfFloor.ready);

const cases: Record<'healthz' | 'decide' | 'decideNoTrack' | 'decideSites' | 'ioFloor', Call> = {
  healthz: { path: '/healthz', headers },
  decide: { method: 'POST', path: '/v1/decide', headers: { ...headers, cookie }, body: decideBody() },
  decideNoTrack: { method: 'POST', path: '/v1/decide', headers: { ...headers, cookie }, body: decideBody(false) },
  decideSites: { method: 'POST', path: '/v1/decide', headers: { ...siteHeaders, cookie: siteCookie }, body: decideBody() },
  ioFloor: { method: 'POST', path: '/v1/decide', headers: { ...headers, cookie }, body: decideBody() },
};
const clientOf = (name: keyof typeof cases) => (name === 'decideSites' ? clientSites : name === 'ioFloor' ? clientFloor : client);
type Case = keyof typeof cases;
const names = Object.keys(cases) as Case[];

await settle();
let sent = await sentRecords();
const health = await client.send(cases.healthz);
if (health.status !== 200) throw new Error(`healthz: ${health.status} ${health.body}`);
const logged = await client.send(cases.decide);
const loggedWrong = wrongDecision(logged);
if (loggedWrong) throw new Error(`decide (returning visitor): ${loggedWrong}`);
await settle();
const perDecide = (await sentRecords()) - sent;
if (perDecide < 1) throw new Error('decide with logging on queued no record');
const quiet = await client.send(cases.decideNoTrack);
const quietWrong = wrongDecision(quiet);
if (quietWrong) throw new Error(`decide, track: false: ${quietWrong}`);
if (quiet.headers['set-cookie'] || quiet.headers['cache-control'] !== 'private, no-store')
  throw new Error('track: false set a cookie or is cacheable');
await settle();
if ((await sentRecords()) !== sent + perDecide) throw new Error('track: false queued a record');
const returningSite = await clientSites.send(cases.decideSites);
if (wrongDecision(returningSite) || returningSite.headers['x-attune-profile'])
  throw new Error(`decide on a site, returning visitor: ${returningSite.body}`);

// --- warm-up, then interleaved rounds
const times: Record<Case, number[]> = { healthz: [], decide: [], decideNoTrack: [], decideSites: [], ioFloor: [] };
const roundP50: Record<Case, number[]> = { healthz: [], decide: [], decideNoTrack: [], decideSites: [], ioFloor: [] };
async function batch(name: Case, n: number, keep: boolean): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = await clientOf(name).send(cases[name]);
    // status and shape only: the full check above ran once, parsing every answer would slow the loop
    if (a.status !== 200 || (name !== 'healthz' && !a.body.includes('"decisions"'))) throw new Error(`${name}: ${a.status} ${a.body}`);
    if (keep) out.push(a.ms);
  }
  return out;
}
for (const name of names) await batch(name, warm, false);
await settle();
sent = await sentRecords();
const sentSites = await sentRecords(clientSites);
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + r) % names.length]!; // rotate, so no case always follows the same one
    const xs = await batch(name, perRound, true);
    times[name].push(...xs);
    roundP50[name].push(median(xs));
  }
}
await settle();
const queued = (await sentRecords()) - sent;
const expected = rounds * perRound * perDecide;
if (queued !== expected) throw new Error(`queued ${queued} records, expected ${expected} (${perDecide} per logged decide)`);
const queuedSites = (await sentRecords(clientSites)) - sentSites;
if (queuedSites !== expected) throw new Error(`sites: queued ${queuedSites} records, expected ${expected}`);

// --- end to end: the consumer has written every record queued since the start to R2, once
let drained = await queueCounts(10_000);
for (let i = 0; i < 6 && drained.acked < drained.sent; i++) drained = await queueCounts(10_000);
if (drained.acked < drained.sent) throw new Error(`the consumer acked ${drained.acked} of ${drained.sent} records`);
const copies = await loggedIds();
const landed = [...copies.values()].reduce((a, b) => a + b, 0);
const twice = [...copies.values()].filter((n) => n > 1).length;
if (landed !== drained.sent || copies.size !== drained.sent || twice > 0)
  throw new Error(`R2 holds ${landed} records (${copies.size} distinct, ${twice} more than once) of ${drained.sent} queued`);

// --- report
const stats = Object.fromEntries(names.map((n) => [n, percentiles(times[n])])) as Record<Case, ReturnType<typeof percentiles>>;
const h = stats.healthz;
console.log(
  `\nraw per-request latency, Miniflare (workerd), 1 connection, sequential, loopback: ${rounds} interleaved rounds × ${perRound} requests per case (after ${warm} warm-up each)`,
);
console.log('case            p50 ms   p90 ms   p99 ms    p50 ×    p99 ×   (× healthz; per-round p50 ratio, median)');
for (const n of names) {
  const s = stats[n];
  const perRoundRatio = median(roundP50[n].map((x, i) => x / roundP50.healthz[i]!));
  console.log(
    `${n.padEnd(14)} ${s.p50.toFixed(3).padStart(7)} ${s.p90.toFixed(3).padStart(8)} ${s.p99.toFixed(3).padStart(8)} ${(s.p50 / h.p50).toFixed(2).padStart(8)} ${(s.p99 / h.p99).toFixed(2).padStart(8)}   ${perRoundRatio.toFixed(2)}`,
  );
}
console.log(`records queued while timing: ${queued} (${perDecide} per logged decide, none for track: false)`);
console.log(`end to end: all ${drained.sent} records queued since the start are in the R2 log, each once`);
console.log(
  `sites: decideSites p50 / decide p50 = ${(stats.decideSites.p50 / stats.decide.p50).toFixed(3)} (per-round median ${median(roundP50.decideSites.map((x, i) => x / roundP50.decide[i]!)).toFixed(3)})`,
);
const f = stats.ioFloor;
console.log(
  `against the platform's part (ioFloor: the same request and answer bytes, no attune code): decide p50 ${(stats.decide.p50 / f.p50).toFixed(2)}×, p99 ${(stats.decide.p99 / f.p99).toFixed(2)}×; track: false p50 ${(stats.decideNoTrack.p50 / f.p50).toFixed(2)}×, p99 ${(stats.decideNoTrack.p99 / f.p99).toFixed(2)}×; ioFloor itself p50 ${(f.p50 / h.p50).toFixed(2)}×, p99 ${(f.p99 / h.p99).toFixed(2)}× healthz`,
);
console.log('reproduce: npm run bench:http');
await mf.dispose();
await mfSites.dispose();
await mfFloor.dispose();
client.close();
clientSites.close();
clientFloor.close();
console.log(
  JSON.stringify({
    ...Object.fromEntries(names.map((n) => [n, { p50: ms3(stats[n].p50), p90: ms3(stats[n].p90), p99: ms3(stats[n].p99) }])),
    log: { queued: drained.sent, landed },
  }),
);
