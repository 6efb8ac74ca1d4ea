/**
 * The first requests of a new isolate: the built Worker (as `wrangler deploy` bundles it) in a
 * fresh Miniflare each run, its KV seeded from Node (so the Worker has run nothing but its
 * module scope), then POST /v1/decide four times in a row. The first pays for the KV reads
 * (manifest, model, segment rules), the cookie key, every function's first compilation, and
 * what start-up leaves to first use (ICU's time-zone data, the checksum kernel: src/worker/index.ts);
 * model preloading exists for it.
 * Reports the median over fresh instances per request number, as round-trip time and as
 * workerd's CPU during the request; the last line is JSON (ms).
 * `npm run bench:startup` runs `freshIsolate` beside the start-up profile, so the trade between
 * the two is visible. Run: npm run bench:first [-- --runs 7]
 */
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { buildWorker, workerModules } from '../../scripts/bundle-size.ts';
import { cliArgs } from '../../src/train/cli.ts';
import { publishDirectory } from '../../src/train/publish.ts';
import { cpuMsBetween, onCpu, theWorkerd } from '../workerd-cpu.ts';
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

export interface FirstRequests {
  /** ms of each of the first FIRST_REQUESTS decisions, round trip */
  readonly ms: number[];
  /** workerd's CPU ms during each (time on a core, so it holds still on a busy machine; local KV included) */
  readonly cpu: number[];
}

const decide = { method: 'POST', path: '/v1/decide', headers: { 'content-type': 'application/json', 'user-agent': ua }, body } as const;

/** The first FIRST_REQUESTS decisions of a fresh isolate of `modules` (the only workerd this process runs). */
export async function freshIsolate(modules: WorkerModules): Promise<FirstRequests> {
  const mf = new Miniflare(convertV4MiniflareOptions({ ...modules, ...benchWorkerOptions('bench-admin-token-0123456789abcdef') }));
  try {
    const base = await mf.ready;
    const kv = (await mf.getKVNamespace('KV')) as unknown as KvLike;
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
    const pid = theWorkerd();
    const out: FirstRequests = { ms: [], cpu: [] };
    try {
      for (let i = 0; i < FIRST_REQUESTS; i++) {
        const c0 = onCpu(pid);
        const a = await client.send(decide);
        out.cpu.push(cpuMsBetween(c0, onCpu(pid)));
        const first = (JSON.parse(a.body) as { decisions?: { source: string }[] }).decisions?.[0];
        if (a.status !== 200 || !first || first.source === 'fallback') throw new Error(`not a model decision: ${a.status} ${a.body}`);
        out.ms.push(a.ms);
      }
    } finally {
      client.close();
    }
    return out;
  } finally {
    await mf.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = cliArgs({
    name: 'bench:first',
    usage: 'npm run bench:first [-- --runs N]',
    summary: `A fresh isolate's first ${FIRST_REQUESTS} POST /v1/decide requests on the built Worker, median over fresh Miniflare instances.`,
    options: { runs: { type: 'integer', min: 1, default: 7, help: 'fresh instances to take the median over' } },
  });
  const runs = values.runs;
  const modules = workerModules('dist', buildWorker('dist'));
  const all: FirstRequests[] = [];
  for (let r = 0; r < runs; r++) all.push(await freshIsolate(modules));
  const medians = (k: keyof FirstRequests) => Array.from({ length: FIRST_REQUESTS }, (_, i) => median(all.map((t) => t[k][i]!)));
  const [ms, cpu] = [medians('ms'), medians('cpu')];
  console.log(`POST /v1/decide on a fresh isolate (Miniflare, loopback), median of ${runs} isolates:`);
  for (let i = 0; i < FIRST_REQUESTS; i++) console.log(`  request ${i + 1}: ${ms[i]!.toFixed(1)} ms, workerd CPU ${cpu[i]!.toFixed(1)} ms`);
  console.log('\nreproduce: npm run bench:first');
  console.log(JSON.stringify({ ms: ms.map(ms3), cpu: cpu.map(ms3) }));
}
