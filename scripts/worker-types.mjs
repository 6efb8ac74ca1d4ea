#!/usr/bin/env node
// `npm run types`: `wrangler types` (arguments passed on), then the Durable Object and main-module
// types pointed back at the sources. wrangler.toml's `main` is the split build
// (scripts/build-worker.mjs, plain JavaScript that a fresh clone does not have yet), so wrangler
// writes imports of build/worker/index, which would type every Durable Object as `any`.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const r = spawnSync('npx', ['--no-install', 'wrangler', 'types', ...args], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
const file = args.find((a, i) => !a.startsWith('-') && !args[i - 1]?.startsWith('--env')) ?? 'worker-configuration.d.ts';
const text = readFileSync(file, 'utf8');
writeFileSync(file, text.replace(/import\("[^"]*build\/worker\/index"\)/g, 'import("./src/worker/index")'));
