#!/usr/bin/env node
// Builds the Worker exactly as `wrangler deploy` would (dry run, no account needed) into
// dist/ and prints its size, raw and gzipped. Budget: under 30 KB gzipped.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export const BUDGET_GZIP = 30 * 1024;

export function buildWorker(outdir = 'dist'): string {
  rmSync(outdir, { recursive: true, force: true }); // no stale modules from an earlier build
  const r = spawnSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outdir, '--minify'], {
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`wrangler build failed:\n${r.stderr}`);
  return `${outdir}/index.js`;
}

/**
 * The built Worker as Miniflare takes it: the script and the modules it imports by name
 * (the checksum kernel), paths relative to `outdir`, which is the modules root.
 */
export function workerModules(outdir: string, script = `${outdir}/index.js`) {
  const wasm = readdirSync(outdir)
    .filter((f) => f.endsWith('.wasm'))
    .map((f) => ({ type: 'CompiledWasm' as const, path: `${outdir}/${f}` }));
  return { modulesRoot: outdir, modules: [{ type: 'ESModule' as const, path: script }, ...wasm] };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = buildWorker();
  // The script and the modules it imports (the checksum kernel's .wasm) ship together.
  const files = workerModules('dist', file).modules.map((m) => m.path);
  let raw = 0;
  let gz = 0;
  for (const f of files) {
    const bytes = readFileSync(f);
    raw += bytes.length;
    gz += gzipSync(bytes, { level: 9 }).length;
  }
  console.log(
    `worker bundle ${files.join(' + ')}: ${(raw / 1024).toFixed(1)} KiB raw, ${(gz / 1024).toFixed(1)} KiB gzipped (budget ${BUDGET_GZIP / 1024} KiB)`,
  );
  if (gz > BUDGET_GZIP) process.exitCode = 1;
}
