#!/usr/bin/env node
// `npm start`: seed local KV with the default models and start the Worker on workerd
// (wrangler dev, offline, no Cloudflare account). Creates .dev.vars with random local
// secrets on first run. PORT (default 8787) picks the port.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';

process.env.WRANGLER_SEND_METRICS = 'false';
if (!existsSync('.dev.vars')) {
  const secret = () => randomBytes(24).toString('base64url');
  writeFileSync('.dev.vars', `PROFILE_SECRET=${secret()}\nADMIN_TOKEN=${secret()}\n`);
  console.log('created .dev.vars with random local secrets (ADMIN_TOKEN is in there)');
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`))));
  });
}

await run(process.execPath, ['src/train/publish.ts']);
const port = process.env.PORT ?? '8787';
const dev = spawn('npx', ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', port, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => dev.kill(sig));
dev.on('exit', (code) => process.exit(code ?? 0));
