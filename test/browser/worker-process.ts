/**
 * Starts the Worker under `wrangler dev` (workerd, offline) on a free loopback port with a
 * throwaway persistence directory and its own test secrets (a clean clone has no `.dev.vars`),
 * for suites that need a real HTTP server (a browser, the CLI). `stop()` kills the process
 * group it started and removes the directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface WorkerProcess {
  readonly url: string;
  readonly adminToken: string;
  /** the local persistence directory (KV, Queues, R2 state) */
  readonly persist: string;
  stop(): Promise<void>;
}

export interface WorkerOptions {
  /** extra `--var NAME:value` bindings */
  readonly vars?: Record<string, string>;
  /** runs before `wrangler dev` starts, e.g. to seed local KV in `persist` */
  readonly seed?: (persist: string) => Promise<void>;
  readonly timeoutMs?: number;
}

/** Everything started and not yet stopped, so a suite whose start timed out can still clean up. */
const running = new Set<() => Promise<void>>();

export async function stopAllWorkers(): Promise<void> {
  await Promise.all([...running].map((stop) => stop()));
}

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

/** `npx wrangler …` to completion; rejects with the tail of its stderr. */
export function wrangler(args: string[]): Promise<void> {
  return new Promise((ok, fail) => {
    const p = spawn('npx', ['--no-install', 'wrangler', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    });
    let err = '';
    p.stderr!.on('data', (d) => {
      err += d;
    });
    p.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`wrangler ${args.join(' ')}: ${err.slice(-500)}`))));
  });
}

export async function startWorker(options: WorkerOptions = {}): Promise<WorkerProcess> {
  const port = await freePort();
  const persist = mkdtempSync(path.join(tmpdir(), 'attune-browser-'));
  const adminToken = `browser-test-admin-token-${Math.random().toString(36).slice(2).padEnd(12, '0')}`; // 32+ characters
  const vars = {
    ADMIN_TOKEN: adminToken,
    SIGNING_SECRET: 'browser-test-signing-secret-0123456789',
    ALLOWED_ORIGINS: '*',
    ...options.vars,
  };
  try {
    await options.seed?.(persist);
  } catch (err) {
    rmSync(persist, { recursive: true, force: true });
    throw err;
  }
  const child: ChildProcess = spawn(
    'npx',
    [
      '--no-install',
      'wrangler',
      'dev',
      '--port',
      String(port),
      '--ip',
      '127.0.0.1',
      '--persist-to',
      persist,
      '--show-interactive-dev-session=false',
      '--log-level',
      'warn',
      ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
    ],
    { env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  // Never leave workerd behind, even if the test process ends while we wait for it.
  const killGroup = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  process.once('exit', killGroup);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    running.delete(stop);
    process.off('exit', killGroup);
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((r) => child.once('exit', r));
      killGroup(); // the process group we created (npx → wrangler → workerd)
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    rmSync(persist, { recursive: true, force: true });
  };
  running.add(stop);
  const until = Date.now() + (options.timeoutMs ?? 150_000);
  while (Date.now() < until) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(3000) })).ok) return { url, adminToken, persist, stop };
    } catch {
      // not listening (or not ready) yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  await stop();
  throw new Error(`wrangler dev did not come up on ${url}:\n${output.slice(-4000)}`);
}
