/**
 * `npm start`, stopped with Ctrl-C right after events were accepted: Miniflare's queue is in
 * memory, so scripts/start.mjs waits for the Worker's consumer to write what is queued before it
 * stops workerd, and every accepted event is in the local R2 log. Runs the script as a user
 * would, in a scratch copy of the checkout (its own .dev.vars, .wrangler state and ports; a copy
 * of the sources, so edits elsewhere do not reload it), which also checks that it adds only the
 * secrets an existing .dev.vars lacks, and that the demo's bandit test is launched and moved by
 * `npm run demo:clicks`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { localR2Sources, readRecords } from '../../src/train/log-reader.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const KEPT_ADMIN_TOKEN = 'kept-admin-token-0123456789abcdef';
const COPIED = [
  'src',
  'scripts',
  'demo',
  'models',
  'snippets',
  'wrangler.toml',
  'package.json',
  'tsconfig.json',
  'tsconfig.base.json',
  'worker-configuration.d.ts',
];
const EVENTS = 60;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const dir = mkdtempSync(path.join(tmpdir(), 'attune-start-'));
let child: ChildProcess | null = null;
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM'); // the script stops wrangler's process group itself
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('on Ctrl-C, drains the local queue into the R2 log before stopping, and says how many records it flushed', async () => {
    for (const f of COPIED) cpSync(path.join(ROOT, f), path.join(dir, f), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    // a checkout from before exchanges: its secrets stay as they are (no newline at the end either)
    const before = `PROFILE_SECRET=kept-profile-secret-0123456789abcdef\n# my comment\nADMIN_TOKEN=${KEPT_ADMIN_TOKEN}`;
    writeFileSync(path.join(dir, '.dev.vars'), before);

    const [port, originPort] = [await freePort(), await freePort()];
    const base = `http://127.0.0.1:${port}`;
    child = spawn(path.join(ROOT, 'node_modules/.bin/node'), ['scripts/start.mjs', '--log-level', 'warn'], {
      cwd: dir,
      env: { ...process.env, PORT: String(port), DEMO_ORIGIN_PORT: String(originPort), WRANGLER_SEND_METRICS: 'false', CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    const until = Date.now() + 150_000;
    let up = false;
    while (!up && Date.now() < until && child.exitCode === null) {
      up = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(3000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (!up) await new Promise((r) => setTimeout(r, 300));
    }
    expect(up, output.slice(-3000)).toBe(true);

    const vars = readFileSync(path.join(dir, '.dev.vars'), 'utf8');
    expect(vars.startsWith(`${before}\n`)).toBe(true);
    const added = vars.slice(before.length + 1);
    expect(added).toMatch(/^EXCHANGE_KEYS=demo:[\w-]{32}\n$/);
    expect(output).toContain('.dev.vars: added EXCHANGE_KEYS ');
    const key = added.slice('EXCHANGE_KEYS=demo:'.length).trim();
    const bid = (authorization?: string) =>
      fetch(`${base}/openrtb2/bid`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ id: 'r1', imp: [{ id: '1', banner: { w: 300, h: 250 } }], site: { id: 's' } }),
      });
    expect([200, 204]).toContain((await bid(`Bearer ${key}`)).status); // the demo exchange is let in
    expect((await bid()).status).toBe(401);

    // the demo's bandit test is launched on the landing page's hero, and a few seconds of
    // simulated clicks (npm run demo:clicks) move its allocation towards the arm clicked most
    const admin = { authorization: `Bearer ${KEPT_ADMIN_TOKEN}` };
    const deadline = Date.now() + 60_000;
    let status = '';
    while (status !== 'running' && Date.now() < deadline) {
      const res = await fetch(`${base}/admin/experiments/demo-hero`, { headers: admin });
      status = res.ok ? ((await res.json()) as { status: string }).status : '';
      if (status !== 'running') await new Promise((r) => setTimeout(r, 500));
    }
    expect(status, output.slice(-3000)).toBe('running');
    expect(output).toContain('demo test demo-hero: running');
    // its admin page is on the admin host, never on the proxied site's (ADMIN_HOST)
    expect(output).toContain(`http://admin.localhost:${port}/ui/experiments/demo-hero shows it`);
    const landing = await (await fetch(`${base}/`, { headers: { accept: 'text/html' } })).text();
    expect(landing).toMatch(/<h1 data-attune-slot="hero"[^>]* data-attune-experiment="demo-hero">/);
    const clicks = await promisify(execFile)(
      path.join(ROOT, 'node_modules/.bin/node'),
      ['scripts/demo-clicks.ts', '--seconds', '4', '--url', base, '--token', KEPT_ADMIN_TOKEN],
      { cwd: dir, encoding: 'utf8', timeout: 90_000 },
    );
    const share = (label: string) => Number(new RegExp(`${label}:.*?urgency ([\\d.]+) %`).exec(clicks.stdout)?.[1]);
    expect(share('after'), clicks.stdout).toBeGreaterThan(share('before') + 10);

    const ids = Array.from({ length: EVENTS }, (_, i) => `stop-${process.pid}-${i}`);
    const answers = await Promise.all(
      ids.map((id) =>
        fetch(`${base}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify([{ name: 'click', id, decisionId: `d-${id}` }]),
        }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(ids.map(() => 200));
    child.kill('SIGINT'); // at once, as a developer's Ctrl-C would

    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))]);
    expect(code, output.slice(-3000)).toBe(0);
    const flushed = /log queue: (\d+) records? flushed to the local R2 log/.exec(output);
    expect(flushed, output.slice(-3000)).not.toBeNull();
    expect(Number(flushed![1])).toBeGreaterThanOrEqual(EVENTS); // and the demo bid's decision record, if it bid

    const { sources, close } = await localR2Sources(path.join(dir, '.wrangler/state'));
    const logged = new Set<string>();
    try {
      for await (const batch of readRecords(sources)) for (const r of batch) if (r.id.startsWith(`stop-${process.pid}-`)) logged.add(r.id);
    } finally {
      await close();
    }
    expect(logged.size).toBe(EVENTS);
  });
});
