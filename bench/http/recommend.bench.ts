/**
 * End-to-end HTTP benchmark of /v1/recommend against a running local Worker (`npm start`, or
 * `wrangler dev`, with the default models published), on loopback, bounded in time:
 * GET /healthz (baseline), POST /v1/recommend for a cart with a returning visitor's profile
 * cookie, and the GET widget form, side by side. Workers freeze clocks during a request, so
 * this is the whole round trip. Run: BASE=http://127.0.0.1:8787 npm run bench:recs:http
 * (DURATION, CONNECTIONS override the defaults).
 */
import autocannon from 'autocannon';

const base = (process.env.BASE ?? 'http://127.0.0.1:8787').replace(/\/$/, '');
const duration = Number(process.env.DURATION ?? 10);
const connections = Number(process.env.CONNECTIONS ?? 8);
const headers = { 'content-type': 'application/json', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36' };
const body = JSON.stringify({
  items: ['tent-2p', 'stove-gas'],
  k: 10,
  filters: { inStock: true },
  diversity: { maxPerCategory: 2 },
  remember: false,
});

// Correctness first: model-sourced items for the cart, and a profile cookie with recent items to replay.
const seed = await fetch(`${base}/v1/recommend`, {
  method: 'POST',
  headers,
  body: JSON.stringify({ items: ['boots-hiking', 'headlamp'] }),
});
const cookie = seed.headers
  .getSetCookie()
  .map((c) => c.split(';')[0])
  .join('; ');
const check = await fetch(`${base}/v1/recommend`, { method: 'POST', headers: { ...headers, cookie }, body });
const json = (await check.json()) as { source: string; items: { id: string }[] };
if (check.status !== 200 || json.source !== 'model' || json.items.length !== 10) throw new Error(`bad answer: ${JSON.stringify(json)}`);

const load = (path: string, method: 'GET' | 'POST', payload?: string) =>
  new Promise<autocannon.Result>((resolve, reject) => {
    autocannon({ url: `${base}${path}`, method, headers: { ...headers, cookie }, body: payload, duration, connections }, (err, r) =>
      err ? reject(err) : resolve(r),
    );
  });
await load('/healthz', 'GET'); // warm-up, discarded
const rows: Array<[string, autocannon.Result]> = [
  ['GET /healthz (baseline)', await load('/healthz', 'GET')],
  ['POST /v1/recommend (cart + profile)', await load('/v1/recommend', 'POST', body)],
  ['GET /v1/recommend?items=…', await load('/v1/recommend?items=tent-2p&k=10&inStock=1', 'GET')],
];
console.log(`\n${base}, ${connections} connections, ${duration} s each, loopback`);
console.log('                                     p50 ms   p99 ms    req/s   non-2xx');
for (const [title, r] of rows) {
  console.log(
    `${title.padEnd(36)} ${String(r.latency.p50).padStart(6)} ${String(r.latency.p99).padStart(8)} ${String(Math.round(r.requests.average)).padStart(8)} ${String(r.non2xx).padStart(9)}`,
  );
}
console.log('\nreproduce: npm start (another shell), then BASE=http://127.0.0.1:8787 npm run bench:recs:http');
