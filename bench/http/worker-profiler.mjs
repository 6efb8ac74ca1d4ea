// Where the Worker's CPU goes, by part: shared by bench:proxy-profile and bench:decide-profile.
//
// The Worker is built unminified, so each function keeps the `// src/…` comment of its module
// above it, in whichever of the built modules holds it; V8's sampling profiler (workerd's inspector, Chrome DevTools protocol) records the
// requests a bench sends; every sample's self time is charged to the part its innermost frame of
// our code belongs to (by module path, the first prefix of `parts` that matches). Samples in V8
// or workerd themselves (HTMLRewriter's parser, fetch, KV, crypto, the GC) are charged to that
// innermost frame of ours when there is one, and to "runtime" otherwise. It says where to cut,
// not how long a request takes (a sampling profiler's clock runs while the thread waits for a core).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workerModules } from '../../scripts/bundle-size.ts';

/** Module path prefix → part; the first that matches wins. */
export const PARTS = [
  ['src/worker/proxy/page-rewriter', 'rewriting (HTMLRewriter handlers)'],
  ['src/worker/proxy/item-template', 'rewriting (HTMLRewriter handlers)'],
  ['src/worker/proxy/recommend-slot', 'recommendation'],
  ['src/worker/recommend/', 'recommendation'],
  ['src/core/recs/', 'recommendation'],
  ['src/worker/proxy/origin', 'origin fetch and cache'],
  ['src/worker/proxy/', 'proxy plumbing (rules, headers, CSP)'],
  ['src/worker/log/', 'logging'],
  ['src/core/decision-record', 'logging'],
  ['src/core/hmac-sha256', 'cookie signing'],
  ['src/core/mac-text', 'cookie signing'],
  ['src/worker/shared/signing', 'cookie signing'],
  ['src/worker/visitor/', 'visitor (cookies, profile)'],
  ['src/core/profile', 'visitor (cookies, profile)'],
  ['src/worker/shared/config-store', 'KV reads (config, models)'],
  ['src/worker/shared/refresh-cache', 'KV reads (config, models)'],
  ['src/worker/models/', 'KV reads (config, models)'],
  ['src/worker/decide/', 'decision'],
  ['src/worker/experiments/', 'decision'],
  ['src/core/', 'decision'],
  ['src/worker/', 'other Worker code'],
  ['node_modules/hono', 'hono'],
  ['node_modules/zod', 'zod'],
];

/** An inspector port of our own (the machine is shared). */
export const INSPECTOR_PORT = 9229 + 1000 + (process.pid % 1000);

/** Builds the Worker as deployed into a temporary directory (removed on exit): its modules, and which source module each line of them holds. */
export function buildForProfile() {
  const out = mkdtempSync(join(tmpdir(), 'attune-profile-'));
  process.on('exit', () => rmSync(out, { recursive: true, force: true }));
  const built = spawnSync('npx', ['--no-install', 'wrangler', 'deploy', '--dry-run', '--outdir', out], {
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`wrangler build failed:\n${built.stderr}`);
  /** Per built module (the entry and the chunks split from it): [line, module path] of each `// src/…` comment, ascending. */
  const marksOf = new Map();
  for (const file of readdirSync(out).filter((f) => f.endsWith('.js'))) {
    const marks = [];
    readFileSync(join(out, file), 'utf8')
      .split('\n')
      .forEach((l, i) => {
        const m = /^\/\/ (?:\S*?\/)?((?:src|node_modules)\/\S+)/.exec(l); // paths relative to the tree, through any symlink
        if (m) marks.push([i, m[1].replace(/^.*node_modules\//, 'node_modules/')]);
      });
    marksOf.set(file, marks);
  }
  /** The module path of a profile frame (its script's URL and line), or undefined when it is not ours. */
  const moduleAt = (url, line) => {
    const marks = marksOf.get(url?.split('/').pop());
    if (marks === undefined || line < 0) return undefined;
    let lo = 0;
    let hi = marks.length - 1;
    let found = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (marks[mid][0] <= line) {
        found = marks[mid][1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
  return { modules: workerModules(out), moduleAt };
}

/** A CDP session with the Worker's isolate on `port`: `record(run)` profiles what `run` sends. */
export async function connectProfiler(port, intervalUs) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const target = targets.find((t) => !/miniflare|entry|proxy/i.test(t.title ?? '')) ?? targets.at(-1);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((ok, fail) => {
    ws.onopen = ok;
    ws.onerror = fail;
  });
  let nextId = 1;
  const pending = new Map();
  ws.onmessage = (e) => {
    const msg = JSON.parse(String(e.data));
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  };
  const cdp = (method, params = {}) => {
    const id = nextId++;
    ws.send(JSON.stringify({ id, method, params }));
    return new Promise((ok, fail) => pending.set(id, (m) => (m.error ? fail(new Error(`${method}: ${m.error.message}`)) : ok(m.result))));
  };
  await cdp('Profiler.enable');
  await cdp('Profiler.setSamplingInterval', { interval: intervalUs });
  return {
    async record(run) {
      await cdp('Profiler.start');
      await run();
      return (await cdp('Profiler.stop')).profile;
    },
    close: () => ws.close(),
  };
}

/** Self time per part over `n` requests, each sample charged to its innermost frame of our bundle. */
export function charge(profile, { moduleAt, parts, n, top, intervalUs }) {
  const partOf = (path) => parts.find(([prefix]) => path.startsWith(prefix))?.[1] ?? 'other bundled code';
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const own = new Map(); // node id → [part, function] of the innermost bundled frame at or above it
  const ownOf = (id) => {
    if (own.has(id)) return own.get(id);
    const cf = byId.get(id).callFrame;
    let r;
    const mod = moduleAt(cf.url, cf.lineNumber);
    if (mod !== undefined) {
      r = [mod ? partOf(mod) : 'other bundled code', `${cf.functionName || '(anonymous)'} (${mod ?? '?'}:${cf.lineNumber + 1})`];
    } else if (cf.functionName === '(idle)') r = ['idle', null];
    else if (cf.functionName === '(garbage collector)') r = ['GC', null];
    else r = parent.has(id) ? ownOf(parent.get(id)) : ['runtime', null];
    own.set(id, r);
    return r;
  };
  const us = new Map();
  const fnUs = new Map();
  let busy = 0;
  profile.samples.forEach((s, i) => {
    const [part, fn] = ownOf(s);
    const d = profile.timeDeltas[i + 1] ?? intervalUs;
    us.set(part, (us.get(part) ?? 0) + d);
    if (fn) fnUs.set(fn, (fnUs.get(fn) ?? 0) + d);
    if (part !== 'idle') busy += d;
  });
  us.delete('idle');
  const share = (v) => Math.round((1000 * v) / busy) / 1000;
  return {
    busyMsPerRequest: busy / 1000 / n,
    share: Object.fromEntries([...us].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, share(v)])),
    top: [...fnUs]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => [k, share(v)]),
  };
}

/** The human-readable part of a charge. */
export function printCharge(title, r) {
  console.log(`\n${title}, ${r.busyMsPerRequest.toFixed(3)} ms of non-idle samples per request`);
  for (const [part, share] of Object.entries(r.share)) console.log(`  ${(share * 100).toFixed(1).padStart(5)} %  ${part}`);
  console.log('  costliest functions of ours (samples in what they call included):');
  for (const [fn, share] of r.top) console.log(`  ${(share * 100).toFixed(1).padStart(5)} %  ${fn}`);
}
