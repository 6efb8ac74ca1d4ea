#!/usr/bin/env node
// `npm start`: seed local KV with the default models, the demo's page rules and its campaigns
// (demo/campaigns.json: a banner, a video and a PMP deal campaign, added when missing), serve
// the demo site (demo/site) from a loopback origin, and start the Worker on workerd (wrangler dev,
// offline, no Cloudflare account) in proxy mode in front of it: open http://127.0.0.1:8787/
// and the landing page's headline is a bandit test decided at the edge (demo-hero, created and
// launched through the admin API once the Worker answers; `npm run demo:clicks` moves it). A
// second demo site (demo/site-local, its own origin, page rules and test) answers on
// http://localhost:8787/, the same Worker and port: sites are told apart by the Host (docs/sites.md).
// PORT (default 8787) picks the Worker's port, DEMO_ORIGIN_PORT (default PORT+1) the demo
// origin's. With ORIGIN_URL set, the Worker proxies that site instead and no demo is served.
// The admin page answers on ADMIN_HOST only (default admin.localhost: http://admin.localhost:8787/ui/experiments),
// never on the proxied site's hosts.
// Browsers on any origin may call the API locally (ALLOWED_ORIGINS=*, unless set): wrangler.toml's
// default allows none, for production, where `npm run deploy` sets the site's origin.
// Adds the local secrets .dev.vars lacks (random values; a `demo` exchange key), leaving the
// ones it has alone.
//
// Stopping (Ctrl-C, SIGTERM, SIGHUP, or this script's parent exiting): Miniflare's queue is in
// memory, so what it holds when workerd stops is lost (production Queues are durable). Wrangler runs in its own process group, where
// Ctrl-C does not reach it; this script first waits (at most DRAIN_MS) until the Worker's
// consumer has written every record it queued to the local R2 log (GET /__attune/queue,
// src/worker/log/queue-routes.ts), says how many, then stops it. A second Ctrl-C stops at once.
import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { existsSync, readFileSync } from 'node:fs';
import { secretProblem } from '../src/core/secret-strength.ts';
import { CONFIG_KEYS } from '../src/core/store-keys.ts';
import { usageText } from '../src/train/cli.ts';
import { seedDemoExperiment } from './demo-experiment.ts';
import { addMissingSecrets, parseDevVars } from './dev-vars.ts';
import { startStaticOrigin } from './static-origin.mjs';
import { moduleTableFilter } from './module-table.ts';
import { createInterface } from 'node:readline';

const SPEC = {
  name: 'start',
  usage: 'npm start [-- WRANGLER_DEV_OPTIONS]',
  summary:
    'Seeds local KV from models/, adds missing local secrets to .dev.vars, serves the demo site and runs the Worker on local workerd (wrangler dev, offline) in front of it. Ctrl-C waits for the local log queue to drain, then stops.',
  options: {},
  notes: [
    'Environment:',
    "  PORT              the Worker's port (default 8787): http://127.0.0.1:$PORT/",
    "  DEMO_ORIGIN_PORT  the demo origin's port (default PORT+1)",
    '  ORIGIN_URL        proxy this site instead of the demo',
    '  ALLOWED_ORIGINS   browser origins allowed to call /v1/* (default * locally)',
    'Other arguments go to wrangler dev (npx wrangler dev --help).',
  ],
};
if (process.argv.slice(2).some((a) => a === '--help' || a === '-h')) {
  console.log(usageText(SPEC));
  process.exit(0);
}

const DRAIN_MS = 10_000;
/** how long wrangler and workerd get to stop after the drain before they are killed */
const STOP_MS = 5000;
/** longer than the Worker's 10 ms coalescing of decision records, so those are sent first */
const SETTLE_MS = 100;

process.env.WRANGLER_SEND_METRICS = 'false';
const added = addMissingSecrets('.dev.vars');
if (added.length > 0)
  console.log(`.dev.vars: added ${added.join(', ')} (random local values; the admin token and the demo exchange's key are in there)`);
const vars = parseDevVars(readFileSync('.dev.vars', 'utf8'));
if (!vars.get('EXCHANGE_KEYS'))
  console.warn('.dev.vars: EXCHANGE_KEYS is empty, so every bid request will be refused (see .dev.vars.example)');
for (const name of ['SIGNING_SECRET', 'PROFILE_SECRET', 'ADMIN_TOKEN']) {
  const problem = vars.get(name) ? secretProblem(vars.get(name)) : null;
  if (problem)
    console.warn(`.dev.vars: ${name} is ${problem}, so the Worker treats it as not set; delete its line and npm start writes a random one`);
}
// The admin page never shares a host with the proxied site (src/worker/shared/admin-host.ts):
// the demo site is on 127.0.0.1 (and localhost), the admin page on admin.localhost.
const adminHost = process.env.ADMIN_HOST || vars.get('ADMIN_HOST') || 'admin.localhost';

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`))));
  });
}

await run(process.execPath, ['src/train/publish.ts']);
await run(process.execPath, ['scripts/seed-campaigns.ts']);
const port = process.env.PORT ?? '8787';
const base = `http://127.0.0.1:${port}`;
let originUrl = process.env.ORIGIN_URL;
let demo = null;
let demoLocal = null;
if (!originUrl) {
  await run(process.execPath, ['scripts/put-config.ts', CONFIG_KEYS.pageRules, 'demo/page-rules.json']);
  demo = await startStaticOrigin({ root: 'demo/site', port: Number(process.env.DEMO_ORIGIN_PORT ?? Number(port) + 1) });
  originUrl = demo.url;
  console.log(`demo origin ${demo.url} (demo/site); open ${base}/ for the personalized site`);
  // A second site on the same Worker and port (docs/sites.md): 127.0.0.1 stays the default
  // site (ORIGIN_URL, today's keys), localhost is the site `local` with its own origin and rules.
  demoLocal = await startStaticOrigin({ root: 'demo/site-local' });
  await run(process.execPath, ['scripts/sites-migrate.ts', '--site', 'default', '--host', '127.0.0.1']);
  await run(process.execPath, ['scripts/sites-migrate.ts', '--site', 'local', '--host', 'localhost', '--origin', demoLocal.url, '--empty']);
  await run(process.execPath, ['scripts/put-config.ts', `site-data/local/${CONFIG_KEYS.pageRules}`, 'demo/site-local/page-rules.json']);
  console.log(`second demo site: http://localhost:${port}/ (site local, origin ${demoLocal.url}, demo/site-local)`);
}
const adminBase = `http://${adminHost.split(',')[0].trim()}:${port}`;
console.log(`admin page: ${adminBase}/ui/experiments (ADMIN_HOST; docs/experiments.md)`);
if (vars.get('EXCHANGE_KEYS')?.includes('demo:')) {
  console.log(
    `bidder: POST ${base}/openrtb2/bid with the demo exchange's key (EXCHANGE_KEYS in .dev.vars), or the path form (npm run exchange:path); ` +
      `add "test": 1 for a test auction that explains itself; campaigns at ${adminBase}/ui/campaigns; docs/bidding.md`,
  );
}
// the demo exchange's debug requests get the bidder's explanation (bid-debug.ts); DEBUG_EXCHANGES=… overrides
const debugExchanges = process.env.DEBUG_EXCHANGES ?? 'demo';

// wrangler dev fetches Request.cf (this machine's own location) from workers.cloudflare.com
// unless it has a copy (node_modules/.mf/cf.json); offline, every start would print a stack
// trace (getaddrinfo ENOTFOUND). Offline it uses its placeholder instead, as it would anyway.
const CF_HOST = 'workers.cloudflare.com';
if (process.env.CLOUDFLARE_CF_FETCH_ENABLED === undefined && !existsSync('node_modules/.mf/cf.json')) {
  const online = await Promise.race([
    lookup(CF_HOST).then(
      () => true,
      () => false,
    ),
    new Promise((r) => setTimeout(() => r(false), 2000)),
  ]);
  if (!online) {
    process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
    console.log(`offline (${CF_HOST} not found): request.cf is wrangler's placeholder, not this machine's location`);
  }
}

// Its own process group (detached), so Ctrl-C reaches this script only; stdin is not the
// terminal's, since a background group reading it would be stopped (no interactive hotkeys).
const dev = spawn(
  'npx',
  [
    'wrangler',
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    port,
    '--var',
    `ORIGIN_URL:${originUrl}`,
    '--var',
    `ADMIN_HOST:${adminHost}`,
    '--var',
    'ATTUNE_DEV:1',
    '--var',
    `DEBUG_EXCHANGES:${debugExchanges}`,
    '--var',
    `ALLOWED_ORIGINS:${process.env.ALLOWED_ORIGINS ?? '*'}`,
    '--show-interactive-dev-session=false',
    ...process.argv.slice(2),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
);
// wrangler's output as it comes, but its list of attached modules as one line (module-table.ts)
createInterface({ input: dev.stdout, crlfDelay: Infinity }).on(
  'line',
  moduleTableFilter((line) => process.stdout.write(`${line}\n`)),
);

const signalGroup = (sig) => {
  try {
    process.kill(-dev.pid, sig);
  } catch {
    // already gone
  }
};
process.on('exit', () => signalGroup('SIGKILL')); // never leave workerd behind

if (demo && vars.get('ADMIN_TOKEN'))
  seedDemoExperiment(base, vars.get('ADMIN_TOKEN'), adminBase).then(
    (line) => console.log(line),
    (err) => console.warn(`demo test: not seeded (${err})`),
  );

/** The Worker's counts of log records sent and acked, once all are acked or after `waitMs`. */
async function queueCounts(waitMs = 0) {
  try {
    const res = await fetch(`${base}/__attune/queue?wait=${waitMs}`, { signal: AbortSignal.timeout(waitMs + 2000) });
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

/** Waits until every record the Worker queued has been acked by its consumer, or DRAIN_MS. */
async function drain() {
  const started = Date.now();
  const first = await queueCounts();
  if (first === null) return 'log queue: the Worker did not answer; nothing to wait for';
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  let last = (await queueCounts()) ?? first;
  while (last.acked < last.sent && Date.now() - started < DRAIN_MS) {
    const next = await queueCounts(Math.max(0, DRAIN_MS - (Date.now() - started)));
    if (next === null) await new Promise((r) => setTimeout(r, 200));
    else last = next;
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (last.isolate !== first.isolate) {
    return `log queue: the Worker reloaded (a source file changed) while draining; up to ${first.sent - first.acked} records its queue held are lost`;
  }
  const flushed = Math.max(0, last.acked - first.acked);
  if (last.acked >= last.sent) return `log queue: ${flushed} record${flushed === 1 ? '' : 's'} flushed to the local R2 log (${secs} s)`;
  return (
    `log queue: gave up after ${secs} s; ${last.sent - last.acked} records still queued are lost ` +
    `(${flushed} flushed; Miniflare's queue is in memory; a failed R2 write retries after 10 s or more)`
  );
}

let stopping = false;
/**
 * Drains, then passes the signal on to wrangler's group (SIGINT for Ctrl-C, SIGTERM otherwise);
 * whatever still runs STOP_MS later is killed, and this script exits then at the latest, so
 * neither wrangler nor workerd outlives it.
 */
async function stop(why, sig) {
  if (stopping) {
    console.log('stopping now, without waiting for the log queue');
    signalGroup('SIGKILL');
    return;
  }
  stopping = true;
  console.log(`\n${why}: waiting for the log queue to drain (at most ${DRAIN_MS / 1000} s; Ctrl-C again to stop at once)`);
  console.log(await drain());
  signalGroup(sig);
  setTimeout(() => {
    signalGroup('SIGKILL');
    process.exit(0);
  }, STOP_MS).unref();
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => void stop(sig, sig === 'SIGINT' ? 'SIGINT' : 'SIGTERM'));
// A parent that dies without signalling (killed with SIGKILL, a closed CI step) leaves this
// script adopted by another process: stop as on SIGTERM rather than keep workerd running.
const parent = process.ppid;
setInterval(() => {
  if (!stopping && process.ppid !== parent) void stop('parent process exited', 'SIGTERM');
}, 1000).unref();

/**
 * Once the Worker answers, one test auction from the demo exchange (it books nothing: bid-debug.ts)
 * with a generous tmax, so the isolate has read the campaigns, rates and models from KV and woken
 * the campaigns' ledgers: a cold isolate's first bid request races those reads against its tmax
 * (200 ms by default) and would no-bid (`x-attune-nobid: tmax`), which is right for an exchange
 * but not what a developer's first curl should see.
 */
async function warmBidder(key) {
  const started = Date.now();
  while (Date.now() - started < 60_000 && !stopping) {
    try {
      if ((await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) })).ok) break;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    const res = await fetch(`${base}/openrtb2/bid`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'npm-start-warm-up',
        test: 1,
        tmax: 10_000,
        imp: [
          { id: '1', banner: { w: 300, h: 250 } },
          { id: '2', video: { mimes: ['video/mp4'], w: 640, h: 480 } },
        ],
        site: { id: 'warm-up', domain: 'localhost' },
      }),
      signal: AbortSignal.timeout(15_000),
    });
    if (res.ok) console.log(`bidder ready: the demo campaigns bid (${((Date.now() - started) / 1000).toFixed(1)} s after start)`);
  } catch {
    // the first real request warms it instead
  }
}
const demoKey = /(?:^|,)\s*demo:([^,\s]+)/.exec(vars.get('EXCHANGE_KEYS') ?? '')?.[1];
if (demoKey) void warmBidder(demoKey);

dev.on('exit', async (code, signal) => {
  await demo?.close();
  await demoLocal?.close();
  process.exit(stopping ? 0 : (code ?? (signal ? 1 : 0)));
});
