#!/usr/bin/env node
// Builds the Worker exactly as `wrangler deploy` would (dry run, no account needed) into
// dist/ and prints its size, raw and gzipped. Budget: under 30 KB gzipped.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export const BUDGET_GZIP = 30 * 1024;

export function buildWorker(outdir = 'dist'): string {
  const r = spawnSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outdir, '--minify'], {
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`wrangler build failed:\n${r.stderr}`);
  return `${outdir}/index.js`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = buildWorker();
  const raw = readFileSync(file);
  const gz = gzipSync(raw, { level: 9 }).length;
  console.log(`worker bundle ${file}: ${(raw.length / 1024).toFixed(1)} KiB raw, ${(gz / 1024).toFixed(1)} KiB gzipped (budget ${BUDGET_GZIP / 1024} KiB)`);
  if (gz > BUDGET_GZIP) process.exitCode = 1;
}
