/**
 * The first requests of a new isolate: the built Worker (as `wrangler deploy` bundles it) in a
 * fresh Miniflare each run, its KV seeded from Node (so the Worker has run nothing but its
 * module scope), then POST /v1/decide four times in a row. The first pays for the KV reads
 * (manifest, model, segment rules), the cookie key and every function's first compilation;
 * the Worker's start-up warm-up (src/worker/warm-up.ts) and model preloading exist for it.
 * Reports the median over fresh instances per request number; the last line is JSON (ms).
 * `npm run bench:startup` runs `freshIsolate` beside the start-up profile, so the trade between
 * the two is visible. Run: npm run bench:first [-- --runs 7]
 */
import { parseArgs } from 'node:util';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { buildWorker, workerModules } from '../../scripts/bundle-size.ts';
import { publishDirectory } from '../../src/train/publish.ts';
import { median, ms3, rawClient } from './raw-latency.ts';
import { benchWorkerOptions } from './worker-options.ts';

/** How many requests each fresh isolate answers. */
export const FIRST_REQUESTS = 4;

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

/** The Worker's modules as Miniflare takes them: `workerModules` of a build, or a bundle's parts. */
export interface WorkerModules {
  readonly modulesRoot: string;
  readonly modules: { type: 'ESModule' | 'CompiledWasm' | 'Text' | 'Data'; path: string; contents?: Uint8Array }[];
}

/** ms of each of the first FIRST_REQUESTS decisions of a fresh isolate of `modules`. */
export async function freshIsolate(modules: WorkerModules): Promise<number[]> {
  const mf = new Miniflare(convertV4MiniflareOptions({ ...modules, ...benchWorkerOptions('bench-admin-token') }));
  try {
    const base = await mf.ready;
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
    const client = rawClient(base);
    const times: number[] = [];
    try {
      for (let i = 0; i < FIRST_REQUESTS; i++) {
        const a = await client.send({
          method: 'POST',
          path: '/v1/decide',
          headers: { 'content-type': 'application/json', 'user-agent': ua },
          body,
        });
        const first = (JSON.parse(a.body) as { decisions?: { source: string }[] }).decisions?.[0];
        if (a.status !== 200 || !first || first.source === 'fallback') throw new Error(`not a model decision: ${a.status} ${a.body}`);
        times.push(a.ms);
      }
    } finally {
      client.close();
    }
    return times;
  } finally {
    await mf.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
  const runs = Number(values.runs);
  const modules = workerModules('dist', buildWorker('dist'));
  const all: number[][] = [];
  for (let r = 0; r < runs; r++) all.push(await freshIsolate(modules));
  const medians = all[0]!.map((_, i) => median(all.map((t) => t[i]!)));
  console.log(`POST /v1/decide on a fresh isolate (Miniflare, loopback), median of ${runs} isolates:`);
  for (const [i, m] of medians.entries()) console.log(`  request ${i + 1}: ${m.toFixed(1)} ms`);
  console.log('\nreproduce: npm run bench:first');
  console.log(JSON.stringify({ firstRequest: medians.map(ms3) }));
}
