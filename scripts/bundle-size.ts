#!/usr/bin/env node
// Builds the Worker exactly as `wrangler deploy` would (dry run, no account needed: wrangler.toml's
// `[build]`, scripts/build-worker.mjs, then wrangler's copy of the modules it uploads) into dist/
// and prints its size, raw and gzipped: all of it, and the part a new isolate loads at start-up
// (the entry and the modules it imports statically; the rest loads on first use). Budget: under
// 30 KB gzipped, all of it.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const BUDGET_GZIP = 30 * 1024;

export function buildWorker(outdir = 'dist'): string {
  rmSync(outdir, { recursive: true, force: true }); // no stale modules from an earlier build
  const r = spawnSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outdir], {
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`wrangler build failed:\n${r.stderr}`);
  return `${outdir}/index.js`;
}

/**
 * The built Worker as Miniflare takes it: the entry script first, then every module beside it
 * (the chunks it imports, statically or by `import()`, and the checksum kernel's .wasm), paths
 * relative to `outdir`, which is the modules root.
 */
export function workerModules(outdir: string, script = `${outdir}/index.js`) {
  const others = readdirSync(outdir)
    .map((f) => `${outdir}/${f}`)
    .filter((f) => f !== script && (f.endsWith('.js') || f.endsWith('.wasm')))
    .map((path) => ({ type: path.endsWith('.wasm') ? ('CompiledWasm' as const) : ('ESModule' as const), path }));
  return { modulesRoot: outdir, modules: [{ type: 'ESModule' as const, path: script }, ...others] };
}

/** `script` and the modules it imports statically (`import … from './x.js'`), transitively: what a new isolate loads before its first request. */
export function startupModules(script: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    for (const m of code.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s*"(\.\/[^"]+)"|^import\s*"(\.\/[^"]+)"/gm))
      visit(join(dirname(file), m[1] ?? m[2]!));
  };
  visit(script);
  return [...seen];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = buildWorker();
  const size = (files: string[]) => {
    let raw = 0;
    let gz = 0;
    for (const f of files) {
      const bytes = readFileSync(f);
      raw += bytes.length;
      gz += gzipSync(bytes, { level: 9 }).length;
    }
    return { raw, gz, text: `${(raw / 1024).toFixed(1)} KiB raw, ${(gz / 1024).toFixed(1)} KiB gzipped` };
  };
  // Everything uploaded: the scripts and the modules they import (the checksum kernel's .wasm).
  const files = workerModules('dist', file).modules.map((m) => m.path);
  const all = size(files);
  const startup = startupModules(file);
  console.log(`worker bundle, ${files.length} modules in dist/: ${all.text} (budget ${BUDGET_GZIP / 1024} KiB)`);
  console.log(`loaded at start-up, ${startup.length} of them (${file} and what it imports statically): ${size(startup).text}`);
  if (all.gz > BUDGET_GZIP) process.exitCode = 1;
}
