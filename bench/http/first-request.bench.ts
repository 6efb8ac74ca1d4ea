/**
 * The first requests of a new isolate: the built Worker (as `wrangler deploy` bundles it) in a
 * fresh Miniflare each run, its KV seeded from Node (so the Worker has run nothing but its
 * module scope), then POST /v1/decide four times in a row. The first pays for the KV reads
 * (manifest, model, segment rules), the cookie key and every function's first compilation;
 * the Worker's start-up warm-up (src/worker/warm-up.ts) and model preloading exist for it.
 * Reports the median over fresh instances per request number. Run: npm run bench:first [-- --runs 7]
 */
import http from 'node:http';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { benchWorkerOptions } from './worker-options.ts';
import { buildWorker, workerModules } from '../../scripts/bundle-size.ts';
import { cliArgs } from '../../src/train/cli.ts';
import { publishDirectory } from '../../src/train/publish.ts';

const { values } = cliArgs({
  name: 'bench:first',
  usage: 'npm run bench:first [-- --runs N]',
  summary: "A fresh isolate's first four POST /v1/decide requests on the built Worker, median over fresh Miniflare instances.",
  options: { runs: { type: 'integer', min: 1, default: 7, help: 'fresh instances to take the median over' } },
});
const runs = values.runs;
const options = workerModules('dist', buildWorker('dist'));
const body = JSON.stringify({
  page: { url: 'https://shop.example/pricing?utm_medium=cpc' },
  slots: [
    { id: 'hero', model: 'hero-headline' },
    { id: 'cta', candidates: ['a', 'b', 'c'] },
  ],
});
const ua = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1';

interface KvLike {
  get(key: string, type: 'arrayBuffer'): Promise<ArrayBuffer | null>;
  get(key: string, type: 'text'): Promise<string | null>;
  put(key: string, value: string | Uint8Array): Promise<void>;
}

async function oneIsolate(): Promise<number[]> {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      ...options,
      ...benchWorkerOptions('bench-admin-token'),
    }),
  );
  try {
    const base = new URL((await mf.ready).toString());
    const kv = (await mf.getKVNamespace('MODELS')) as unknown as KvLike;
    await publishDirectory(
      'models',
      {
        storage: { getBytes: (k) => kv.get(k, 'arrayBuffer'), getText: (k) => kv.get(k, 'text'), put: (k, v) => kv.put(k, v) },
        putJson: (k, v) => kv.put(k, JSON.stringify(v)),
        close: async () => {},
      },
      undefined,
      () => {},
    );
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const once = () =>
      new Promise<[number, string]>((resolve, reject) => {
        const t0 = process.hrtime.bigint();
        const req = http.request(
          {
            host: base.hostname,
            port: base.port,
            method: 'POST',
            path: '/v1/decide',
            agent,
            headers: { 'content-type': 'application/json', 'user-agent': ua },
          },
          (res) => {
            let text = '';
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve([Number(process.hrtime.bigint() - t0) / 1e6, text]));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [ms, text] = await once();
      const first = (JSON.parse(text) as { decisions?: { source: string }[] }).decisions?.[0];
      if (!first || first.source === 'fallback') throw new Error(`not a model decision: ${text}`);
      times.push(ms);
    }
    agent.destroy();
    return times;
  } finally {
    await mf.dispose();
  }
}

const all: number[][] = [];
for (let r = 0; r < runs; r++) all.push(await oneIsolate());
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`POST /v1/decide on a fresh isolate (Miniflare, loopback), median of ${runs} isolates:`);
for (let i = 0; i < 4; i++) console.log(`  request ${i + 1}: ${median(all.map((t) => t[i]!)).toFixed(1)} ms`);
console.log('\nreproduce: npm run bench:first');
