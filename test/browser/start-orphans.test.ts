/**
 * `npm start` never leaves `wrangler dev` or workerd behind: stopped with SIGTERM, or when the
 * process that started it dies without a signal (SIGKILL), scripts/start.mjs stops wrangler's
 * process group and exits, the port is free again and no process of that group remains. Runs
 * the script in a scratch copy of the checkout, as start-stop.test.ts does.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const COPIED = ['src', 'scripts', 'demo', 'models', 'snippets', 'wrangler.toml', 'package.json', 'tsconfig.json', 'tsconfig.base.json'];

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

/** Processes as `ps` lists them, zombies (exited, not yet reaped) left out. */
const processes = (): { pid: number; ppid: number; pgid: number }[] =>
  execFileSync('ps', ['-e', '-o', 'pid=,ppid=,pgid=,stat='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 4 && !f[3]!.startsWith('Z'))
    .map(([pid, ppid, pgid]) => ({ pid: Number(pid), ppid: Number(ppid), pgid: Number(pgid) }));

const alive = (pid: number): boolean => processes().some((p) => p.pid === pid);

/** The pids of `pid`'s children. */
const childrenOf = (pid: number): number[] =>
  processes()
    .filter((p) => p.ppid === pid)
    .map((p) => p.pid);

/** The pids in process group `pgid`. */
const groupMembers = (pgid: number): number[] =>
  processes()
    .filter((p) => p.pgid === pgid)
    .map((p) => p.pid);

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return check();
}

const dir = mkdtempSync(path.join(tmpdir(), 'attune-orphans-'));
const started: ChildProcess[] = [];
const groups: number[] = [];
afterAll(() => {
  for (const c of started) if (c.exitCode === null) c.kill('SIGKILL');
  for (const g of groups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts `npm start` (through `sh` when `viaShell`, which then is its parent) and waits until
 * the Worker answers; returns the script's pid and wrangler's process group.
 */
async function start(viaShell: boolean) {
  const [port, originPort] = [await freePort(), await freePort()];
  const env = { ...process.env, PORT: String(port), DEMO_ORIGIN_PORT: String(originPort), WRANGLER_SEND_METRICS: 'false', CI: '1' };
  const args = ['scripts/start.mjs', '--log-level', 'warn'];
  const child = viaShell
    ? spawn('/bin/sh', ['-c', `"${NODE}" ${args.join(' ')} & wait`], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(NODE, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const up = await until(
    () =>
      fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) }).then(
        (r) => r.ok,
        () => false,
      ),
    150_000,
  );
  expect(up, output.slice(-3000)).toBe(true);
  const script = viaShell ? childrenOf(child.pid!)[0]! : child.pid!;
  const pgid = childrenOf(script).find((pid) => groupMembers(pid).length > 0)!; // wrangler's group: npx leads it
  expect(pgid, output.slice(-3000)).toBeGreaterThan(0);
  groups.push(pgid);
  expect(groupMembers(pgid).length).toBeGreaterThan(1); // npx, wrangler, workerd
  return { child, script, pgid, port, output: () => output };
}

describe('npm start leaves nothing behind', () => {
  it('prepares a scratch checkout', () => {
    for (const f of COPIED) cpSync(path.join(ROOT, f), path.join(dir, f), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    writeFileSync(path.join(dir, '.dev.vars'), '');
  });

  it('on SIGTERM: stops wrangler and workerd, frees the port, exits 0', async () => {
    const s = await start(false);
    const exited = new Promise<number | null>((r) => s.child.once('exit', (code) => r(code)));
    s.child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))]);
    expect(code, s.output().slice(-3000)).toBe(0);
    expect(s.output()).toContain('SIGTERM: waiting for the log queue to drain');
    // quiet: no false Durable Object warning, no stack trace for the Request.cf fetch when offline
    expect(s.output()).not.toMatch(/Durable Object|ENOTFOUND|Unable to fetch the `Request.cf`/);
    expect(await until(() => groupMembers(s.pgid).length === 0, 5000), `left: ${groupMembers(s.pgid)}`).toBe(true);
    expect(await portFree(s.port)).toBe(true);
  });

  it('when its parent is killed without a signal to it: stops wrangler and workerd, frees the port, exits', async () => {
    const s = await start(true);
    s.child.kill('SIGKILL'); // the shell: the script is orphaned, not signalled
    expect(await until(() => !alive(s.script), 30_000), s.output().slice(-3000)).toBe(true);
    expect(await until(() => groupMembers(s.pgid).length === 0, 5000), `left: ${groupMembers(s.pgid)}`).toBe(true);
    expect(await portFree(s.port)).toBe(true);
  });
});
