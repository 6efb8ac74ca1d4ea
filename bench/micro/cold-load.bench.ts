/**
 * Cold model load: a fresh 4 MiB blob (2^20 rows × 4 variants, int8) decoded, checksum
 * verified, viewed as a linear model and used for a first decision, as a new isolate does
 * after its KV read. Also the 64 KiB default model. Each sample uses a fresh copy of the bytes,
 * so nothing is cached between samples. Run: npm run bench:cold
 */
import { buildContext } from '../../src/core/context.ts';
import { decideLinear } from '../../src/core/decide.ts';
import { createFeatureVector, extractFeatures } from '../../src/core/features.ts';
import { linearFromEnvelope } from '../../src/core/linear-model.ts';
import { decodeEnvelope } from '../../src/core/model-format.ts';
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

for (const bits of [14, 20]) {
  const { blob } = benchModel(bits, `cold-${bits}`);
  coldLoad(blob, 3); // warm the code (JIT), not the data: each sample below decodes fresh bytes
  const r = coldLoad(blob, 41);
  console.log(`${(blob.byteLength / 1024).toFixed(0).padStart(6)} KiB model: decode + verify ${r.decode.toFixed(3)} ms, + first decision ${r.total.toFixed(3)} ms (median of 41 fresh copies)`);
}
console.log('\nreproduce: npm run bench:cold');
