/**
 * Cold model load: a fresh 4 MiB blob (2^20 rows × 4 variants, int8) decoded, checksum
 * verified (with the Worker's SIMD kernel, beside the JavaScript checksum in the same run), viewed as a linear model and used for a first decision, as a new isolate does
 * after its KV read. Also the 64 KiB default model. Each sample uses a fresh copy of the bytes,
 * so nothing is cached between samples. Then the same once in fresh processes, before the JIT
 * has compiled anything, as a new isolate's first request. Run: npm run bench:cold
 */
import { execFileSync } from 'node:child_process';
import { buildContext } from '../../src/core/context.ts';
import { decideLinear } from '../../src/core/decide.ts';
import { createFeatureVector, extractFeatures } from '../../src/core/features.ts';
import { linearFromEnvelope } from '../../src/core/linear-model.ts';
import { checksum, type Checksum } from '../../src/core/checksum.ts';
import { decodeEnvelope, useChecksum } from '../../src/core/model-format.ts';
import { loadKernelChecksum } from '../../src/train/checksum-kernel.ts';
import { warmTimeZones } from '../../src/core/local-time.ts';
import { INPUT, benchModel } from './fixtures.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
type Load = { decode: number; total: number };

/** Decode + verify, and that plus a first decision, per checksum; samples alternate between them. */
function coldLoad(blob: Uint8Array, samples: number, checksums: readonly Checksum[]) {
  const decode = checksums.map(() => [] as number[]);
  const total = checksums.map(() => [] as number[]);
  const fv = createFeatureVector();
  for (let s = 0; s < samples; s++) {
    for (let c = 0; c < checksums.length; c++) {
      useChecksum(checksums[c]!);
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
      decode[c]!.push(t1 - t0);
      total[c]!.push(t2 - t0);
    }
  }
  return checksums.map((_, c) => ({ decode: median(decode[c]!), total: median(total[c]!) }));
}

// `--first`: one load in this fresh process, before the JIT has seen the code: what a new
// isolate's first request pays. Work the Worker leaves to first use (time-zone data,
// the checksum kernel) runs first and is timed apart. Printed as JSON for the parent run below.
if (process.argv.includes('--first')) {
  const bits = Number(process.argv[process.argv.indexOf('--first') + 1]);
  warmTimeZones();
  const t0 = performance.now();
  const kernel = loadKernelChecksum();
  const startup = performance.now() - t0;
  const [r] = coldLoad(benchModel(bits, `cold-${bits}`).blob, 1, [kernel]);
  console.log(JSON.stringify({ ...r, startup }));
  process.exit(0);
}

const kernel = loadKernelChecksum();
const f3 = (x: number) => x.toFixed(3);
for (const bits of [14, 20]) {
  const { blob } = benchModel(bits, `cold-${bits}`);
  coldLoad(blob, 3, [checksum, kernel]); // warm the code (JIT), not the data: each sample below decodes fresh bytes
  const [js, simd] = coldLoad(blob, 41, [checksum, kernel]) as [Load, Load];
  const firsts = Array.from(
    { length: 7 },
    () =>
      JSON.parse(execFileSync(process.execPath, [import.meta.filename, '--first', String(bits)], { encoding: 'utf8' })) as Load & {
        startup: number;
      },
  );
  console.log(`${(blob.byteLength / 1024).toFixed(0)} KiB model (median of 41 fresh copies, code warm):`);
  console.log(
    `  decode + verify: ${f3(simd.decode)} ms with the SIMD kernel, ${f3(js.decode)} ms with the JavaScript checksum (${(js.decode / simd.decode).toFixed(2)}x);` +
      ` + first decision ${f3(simd.total)} ms (${f3(js.total)} ms)`,
  );
  console.log(
    `  in a fresh process (code cold, a new isolate's first request; median of 7): decode + verify ${f3(median(firsts.map((f) => f.decode)))} ms,` +
      ` + first decision ${f3(median(firsts.map((f) => f.total)))} ms; start-up before it (kernel instantiate + self-check) ${f3(median(firsts.map((f) => f.startup)))} ms`,
  );
}
console.log('\nreproduce: npm run bench:cold');
