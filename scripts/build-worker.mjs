#!/usr/bin/env node
// Builds the Worker into build/worker/ as ES modules split at every dynamic `import()`: the entry
// (index.js) holds what every request needs, each lazily loaded feature (app.ts's `lazyRoutes`,
// the proxy, schemas loaded on first use) is a module of its own, and code they share sits in
// shared chunks. wrangler.toml's `[build]` runs this before `wrangler dev` and `wrangler deploy`,
// which then upload the directory as it is (`no_bundle`, `find_additional_modules`).
//
// Why not wrangler's own bundling: it inlines every dynamic import into one script (wrapped in
// lazy initializers), so a new isolate still compiles the whole Worker before its first request.
// workerd compiles an uploaded module only when something imports it, so a module reached only
// through `import()` costs a cold isolate nothing until a request needs it (docs/performance.md).
// Wrangler's `find_additional_modules` keeps dynamic imports as separate modules, but uploads them
// untranspiled, which .ts sources cannot be.
//
// The options follow wrangler's own esbuild call (target, conditions), so the code is what
// wrangler would have built, only split, and without wrangler's default `keep_names`: that wraps
// every function in a `__name(fn, "fn")` call, which at start-up cost a quarter of the isolate's
// CPU. It only matters to code that reads a function's `name` after the bundler renamed it to
// avoid a clash; nothing here does (the tests run the sources, unbundled, without it too).
//
// Run: node scripts/build-worker.mjs [--outdir DIR] [--metafile FILE]
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const WORKER_BUILD_DIR = 'build/worker';

/**
 * Modules the runtime imports by name rather than as code (the checksum kernel's .wasm): left as
 * imports, copied beside the chunks. Every output sits in one directory, so `./<name>` resolves
 * from whichever chunk holds the import.
 */
const wasmModules = (outdir) => ({
  name: 'wasm-modules',
  setup(build) {
    build.onResolve({ filter: /\.wasm$/ }, (args) => {
      const file = resolve(args.resolveDir, args.path);
      copyFileSync(file, join(outdir, basename(file)));
      return { path: `./${basename(file)}`, external: true };
    });
  },
});

/** Builds the Worker into `outdir` (relative to the repository), emptied first: a stale chunk would be uploaded too. */
export async function buildWorker({ outdir = WORKER_BUILD_DIR, metafile } = {}) {
  const out = resolve(ROOT, outdir);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['src/worker/index.ts'],
    outdir: out,
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    // as wrangler 4 builds: the syntax workerd runs, its package conditions
    target: 'es2024',
    supported: { 'import-source': true, using: true },
    conditions: ['workerd', 'worker', 'browser'],
    external: ['cloudflare:*'],
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    plugins: [wasmModules(out)],
  });
  if (metafile) writeFileSync(resolve(ROOT, metafile), JSON.stringify(result.metafile));
  return result;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' }, metafile: { type: 'string' } } });
  await buildWorker(values);
}
