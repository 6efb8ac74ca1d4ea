/**
 * What every browser test file starts for itself: a loopback origin serving the real shared
 * pages, the Worker under `wrangler dev` on a free port with a temporary persist directory
 * (real local KV, Queues and R2), and headless Chromium driven by playwright-core (chromium.ts
 * finds one: CHROMIUM_PATH, a system install, or the one inside the npm package).
 */
import { HAS_SHARED_DATA, SHARED_DATA } from '../fixtures/shared-data.ts';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CONFIG_KEYS } from '../../src/core/store-keys.ts';
import { BINDING } from '../../src/train/storage.ts';
import { startWorker as startWorkerProcess, wrangler, type WorkerProcess } from './worker-process.ts';

export { launchChromium } from './chromium.ts';

export const PAGES = resolve(SHARED_DATA, 'html-pages');
export { HAS_SHARED_DATA };
const readPage = (name: string) => (HAS_SHARED_DATA ? readFileSync(join(PAGES, name, 'index.html'), 'utf8') : '');
export const LANDING = readPage('startbootstrap-landing-page');
export const SHOP = readPage('startbootstrap-shop-homepage');
export const LANDING_HEADLINE = 'Generate more leads with a professional landing page!';

type Handler = (req: IncomingMessage, res: ServerResponse, origin: string) => boolean | undefined;

/** An origin on loopback: `/landing/` and `/shop/` are the shared pages, `extra` adds routes. */
export async function startOrigin(extra: Handler = () => false): Promise<{ url: string; close: () => Promise<void> }> {
  let self = '';
  const server = createServer((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    if (extra(req, res, self)) return;
    if (path === '/landing/' || path === '/shop/') {
      const body = path === '/landing/' ? LANDING : SHOP;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'public, max-age=60' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: self,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

export type RunningWorker = WorkerProcess;

/** The admin page's host in proxy mode (ADMIN_HOST, as `npm start` sets it; browsers resolve `*.localhost` to loopback). */
export const ADMIN_HOST = 'admin.localhost';

/** Where a proxy-mode worker's admin page answers: its URL on ADMIN_HOST. */
export const adminUrl = (worker: RunningWorker): string => worker.url.replace('127.0.0.1', ADMIN_HOST);

/** `wrangler dev` in proxy mode in front of `originUrl`, with `pageRules` in its local KV. */
export function startWorker(originUrl: string, pageRules: unknown): Promise<RunningWorker> {
  return startWorkerProcess({
    vars: { ORIGIN_URL: originUrl, ADMIN_HOST },
    seed: async (persist) => {
      const rulesFile = join(persist, 'page-rules.json');
      writeFileSync(rulesFile, JSON.stringify(pageRules));
      await wrangler([
        'kv',
        'key',
        'put',
        CONFIG_KEYS.pageRules,
        '--path',
        rulesFile,
        '--binding',
        BINDING,
        '--local',
        '--persist-to',
        persist,
      ]);
    },
  });
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/**
 * Every record in the Worker's R2 log so far, read from the local R2's blob files (each log
 * object is one gzip NDJSON blob), so the test sees exactly what the consumer wrote.
 */
export function readLog(persist: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const f of files(join(persist, 'v3', 'r2'))) {
    if (!f.includes(`${join('blobs')}`) || f.endsWith('.tmp')) continue; // .tmp: a blob being written
    let bytes: Buffer;
    try {
      bytes = readFileSync(f);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // renamed or removed since it was listed
      throw err;
    }
    if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) continue;
    for (const line of gunzipSync(bytes).toString('utf8').split('\n')) if (line.trim()) out.push(JSON.parse(line));
  }
  return out;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | null | false, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
