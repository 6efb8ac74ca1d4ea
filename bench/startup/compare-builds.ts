/**
 * Start-up CPU of built Workers side by side: each DIR holds one build's modules (the entry
 * index.js beside its chunks and the .wasm, as `node scripts/build-worker.mjs --outdir DIR` or
 * `wrangler deploy --dry-run --outdir DIR` leave them), measured in alternation with
 * bundle-cpu.ts's `startupCpu` (workerd's CPU across the fetch that imports the entry), less
 * what an empty Worker costs. For trying build options and what start-up imports, before a
 * change goes through `npm run bench:startup`. The last line is JSON (ms, medians).
 * Run: node bench/startup/compare-builds.ts [--runs 7] DIR…
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliArgs } from '../../src/train/cli.ts';
import { median, ms3 } from '../http/raw-latency.ts';
import { controlBundle, type ParsedBundle, startupCpu } from './bundle-cpu.ts';

const { values, positionals: dirs } = cliArgs({
  name: 'compare-builds',
  usage: 'node bench/startup/compare-builds.ts [--runs N] DIR…',
  summary: "Start-up CPU (workerd's, less an empty Worker's) of built Workers, one per DIR, measured in alternation.",
  options: { runs: { type: 'integer', min: 1, default: 7, help: 'start-ups of each build' } },
  positionals: { min: 1, name: 'DIR' },
});

/** A build directory as bundle-cpu.ts loads it: index.js first, then every other .js and .wasm. */
function bundleOf(dir: string): ParsedBundle {
  const files = readdirSync(dir).filter((f) => f.endsWith('.js') || f.endsWith('.wasm'));
  if (!files.includes('index.js')) throw new Error(`${dir}: no index.js`);
  return {
    mainModule: 'index.js',
    modules: ['index.js', ...files.filter((f) => f !== 'index.js')].map((f) => ({
      type: f.endsWith('.wasm') ? ('CompiledWasm' as const) : ('ESModule' as const),
      path: f,
      contents: new Uint8Array(readFileSync(join(dir, f))),
    })),
  };
}

const bundles = dirs.map(bundleOf);
const cpu: number[][] = dirs.map(() => []);
const empty: number[] = [];
for (let r = 0; r < values.runs; r++) {
  for (const [i, b] of bundles.entries()) cpu[i]!.push((await startupCpu(b)).startup);
  empty.push((await startupCpu(controlBundle)).startup);
}
const floor = median(empty);
console.log(`start-up, workerd CPU less an empty Worker's (${floor.toFixed(1)} ms), median of ${values.runs} alternating runs:`);
for (const [i, d] of dirs.entries()) console.log(`  ${(median(cpu[i]!) - floor).toFixed(2).padStart(7)} ms  ${d}`);
console.log(JSON.stringify(Object.fromEntries(dirs.map((d, i) => [d, ms3(median(cpu[i]!) - floor)]))));
