#!/usr/bin/env node
// `npm start`: seed local KV with the default models and the demo's page rules, serve the demo
// site (demo/site) from a loopback origin, and start the Worker on workerd (wrangler dev,
// offline, no Cloudflare account) in proxy mode in front of it: open http://127.0.0.1:8787/
// and the landing page's headline is a bandit test decided at the edge.
// PORT (default 8787) picks the Worker's port, DEMO_ORIGIN_PORT (default PORT+1) the demo
// origin's. With ORIGIN_URL set, the Worker proxies that site instead and no demo is served.
// Creates .dev.vars with random local secrets on first run.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { startStaticOrigin } from './static-origin.mjs';

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
let originUrl = process.env.ORIGIN_URL;
let demo = null;
if (!originUrl) {
  await run(process.execPath, ['scripts/put-config.ts', 'config/page-rules', 'demo/page-rules.json']);
  demo = await startStaticOrigin({ root: 'demo/site', port: Number(process.env.DEMO_ORIGIN_PORT ?? Number(port) + 1) });
  originUrl = demo.url;
  console.log(`demo origin ${demo.url} (demo/site); open http://127.0.0.1:${port}/ for the personalized site`);
}
const dev = spawn('npx', ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', port, '--var', `ORIGIN_URL:${originUrl}`, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => dev.kill(sig));
dev.on('exit', async (code) => {
  await demo?.close();
  process.exit(code ?? 0);
});
