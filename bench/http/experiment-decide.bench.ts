/**
 * End to end: POST /v1/decide with a bandit-test slot against the same request with a plain
 * candidates slot (uniform draw, no model), on local workerd (`wrangler dev`), loopback,
 * autocannon, rounds interleaved so both see the same machine load.
 *
 *   npm run bench:experiments-http [-- --seconds 8 --rounds 2 --connections 8]
 */
import autocannon from 'autocannon';
import { cliArgs } from '../../src/train/cli.ts';
import { startWorker } from '../../test/browser/worker-process.ts';

const { values } = cliArgs({
  name: 'bench:experiments-http',
  usage: 'npm run bench:experiments-http [-- --seconds N --rounds N --connections N]',
  summary: 'POST /v1/decide with a bandit-test slot against a plain candidates slot, on local workerd, interleaved rounds.',
  options: {
    seconds: { type: 'number', min: 1, default: 8, help: 'seconds per round' },
    rounds: { type: 'integer', min: 1, default: 2, help: 'rounds per case' },
    connections: { type: 'integer', min: 1, default: 8, help: 'concurrent connections' },
  },
});
const { seconds, rounds, connections } = values;

const worker = await startWorker();
try {
  const admin = (path: string, body?: unknown) =>
    fetch(`${worker.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${worker.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const created = await admin('/admin/experiments', {
    key: 'bench-hero',
    name: 'bench',
    goals: ['click'],
    publishSeconds: 1,
    arms: ['a', 'b', 'c'].map((k) => ({ key: k, payload: { type: 'text', value: `headline ${k}` } })),
  });
  if (created.status !== 201) throw new Error(await created.text());
  await admin('/admin/experiments/bench-hero/launch');

  const bodies = {
    candidates: JSON.stringify({
      visitorId: 'bench-visitor-0001',
      page: { url: 'https://shop.example/pricing' },
      slots: [{ id: 'hero', candidates: ['a', 'b', 'c'] }],
    }),
    experiment: JSON.stringify({
      visitorId: 'bench-visitor-0001',
      page: { url: 'https://shop.example/pricing' },
      slots: [{ id: 'hero', experiment: 'bench-hero' }],
    }),
  };
  // Correctness before timing: the experiment slot is served from the published snapshot.
  const check = await fetch(`${worker.url}/v1/decide`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: bodies.experiment,
  });
  const d = (
    (await check.json()) as {
      decisions: Array<{ experiment?: { exposed: boolean }; model: { version: string | null }; fallback?: string }>;
    }
  ).decisions[0]!;
  if (!d.experiment?.exposed || d.fallback) throw new Error(`experiment slot not served from a snapshot: ${JSON.stringify(d)}`);

  const results: Record<string, { rps: number[]; p50: number[]; p99: number[] }> = {
    candidates: { rps: [], p50: [], p99: [] },
    experiment: { rps: [], p50: [], p99: [] },
  };
  for (let r = 0; r < rounds; r++) {
    for (const name of ['candidates', 'experiment'] as const) {
      const out = await autocannon({
        url: `${worker.url}/v1/decide`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bodies[name],
        connections,
        duration: seconds,
      });
      if (out.non2xx > 0 || out.errors > 0) throw new Error(`${name}: ${out.non2xx} non-2xx, ${out.errors} errors`);
      results[name]!.rps.push(out.requests.average);
      results[name]!.p50.push(out.latency.p50);
      results[name]!.p99.push(out.latency.p99);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  console.log(`# POST /v1/decide on wrangler dev, ${connections} connections, ${rounds} interleaved rounds of ${seconds} s`);
  console.log(`# reproduce: npm run bench:experiments-http -- --seconds ${seconds} --rounds ${rounds} --connections ${connections}\n`);
  console.log('| slot | req/s (median round) | p50 ms | p99 ms |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [name, r] of Object.entries(results))
    console.log(`| ${name} | ${median(r.rps).toFixed(0)} | ${median(r.p50)} | ${median(r.p99)} |`);
  console.log(`\nexperiment / candidates throughput: ${(median(results.experiment!.rps) / median(results.candidates!.rps)).toFixed(2)}×`);
} finally {
  await worker.stop();
}
