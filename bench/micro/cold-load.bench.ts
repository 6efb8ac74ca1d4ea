/**
 * Cold model load: a fresh 4 MiB blob (2^20 rows × 4 variants, int8) decoded, checksum
 * verified, viewed as a linear model and used for a first decision, as a new isolate does
 * after its KV read. Also the 64 KiB default model. Each sample uses a fresh copy of the bytes,
 * so nothing is cached between samples. Then the same once in fresh processes, before the JIT
 * has compiled anything, as a new isolate's first request. Run: npm run bench:cold
 */
import { execFileSync } from 'node:child_process';
import { buildContext } from '../../src/core/context.ts';
import { decideLinear } from '../../src/core/decide.ts';
import { createFeatureVector, extractFeatures } from '../../src/core/features.ts';
import { linearFromEnvelope } from '../../src/core/linear-model.ts';
import { decodeEnvelope } from '../../src/core/model-format.ts';
import { warmTimeZones } from '../../src/core/local-time.ts';
import { INPUT, benchModel } from './fixtures.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function coldLoad(blob: Uint8Array, samples: number) {
  const decode: number[] = [];
  const total: number[] = [];
  const fv = createFeatureVector();
  for (let s = 0; s < samples; s++) {
    const bytes = blob.slice().buffer; // what a KV read hands the isolate
    const t0 = performance.now();
    const env = decodeEnvelope(bytes);
    if (!env.ok) throw new Error(env.reason);
    const m = linearFromEnvelope(env.envelope);
    if (!m.ok) throw new Error(m.reason);
    const t1 = performance.now();
    const d = decideLinear(m.model, null, extractFeatures(buildContext(INPUT), fv), 0.5);
    const t2 = performance.now();
    if (!d) throw new Error('no decision');
    decode.push(t1 - t0);
    total.push(t2 - t0);
  }
  return { decode: median(decode), total: median(total) };
}

// `--first`: one load in this fresh process, before the JIT has seen the code: what a new
// isolate's first request pays. Printed as JSON for the parent run below.
if (process.argv.includes('--first')) {
  const bits = Number(process.argv[process.argv.indexOf('--first') + 1]);
  warmTimeZones(); // as the Worker does at module scope, during isolate start-up
  const r = coldLoad(benchModel(bits, `cold-${bits}`).blob, 1);
  console.log(JSON.stringify(r));
  process.exit(0);
}

for (const bits of [14, 20]) {
  const { blob } = benchModel(bits, `cold-${bits}`);
  coldLoad(blob, 3); // warm the code (JIT), not the data: each sample below decodes fresh bytes
  const r = coldLoad(blob, 41);
  const firsts = Array.from({ length: 7 }, () => JSON.parse(execFileSync(process.execPath, [import.meta.filename, '--first', String(bits)], { encoding: 'utf8' })) as { decode: number; total: number });
  console.log(`${(blob.byteLength / 1024).toFixed(0).padStart(6)} KiB model: decode + verify ${r.decode.toFixed(3)} ms, + first decision ${r.total.toFixed(3)} ms (median of 41 fresh copies, code warm);`
    + ` in a fresh process (code cold, as a new isolate's first request) ${median(firsts.map((f) => f.decode)).toFixed(3)} ms, + first decision ${median(firsts.map((f) => f.total)).toFixed(3)} ms (median of 7)`);
}
console.log('\nreproduce: npm run bench:cold');
