#!/usr/bin/env node
// `npm test`: type-check every zone, then run the unit and workerd suites (and, when present,
// the browser suite). Exits non-zero on the first failure.
import { spawnSync } from 'node:child_process';

process.env.WRANGLER_SEND_METRICS = 'false';
const steps = [
  ['biome', ['check', '--error-on-warnings', '.']],
  ['tsc', ['-p', 'src/core']],
  ['tsc', ['-p', 'src/train']],
  ['tsc', ['-p', 'tsconfig.json']],
  ['tsc', ['-p', 'tsconfig.node.json']],
  ['tsc', ['-p', 'snippets']],
  ['tsc', ['-p', 'test/browser']],
  ['vitest', ['run', ...process.argv.slice(2)]],
];
for (const [cmd, args] of steps) {
  console.log(`\n> ${cmd} ${args.join(' ')}`);
  const r = spawnSync('npx', ['--no-install', cmd, ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
