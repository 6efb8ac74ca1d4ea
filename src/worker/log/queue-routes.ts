/** `GET /__attune/queue`: `npm start`'s view of the log queue (queue-stats.ts) on local dev only. */
import { Hono } from 'hono';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { devRoutesOn, queueCounts } from './queue-stats.ts';

/**
 * Which isolate counted: wrangler reloads the Worker when a source file changes, which starts
 * the counts over and (locally) drops what the queue held, and the caller must know.
 */
let isolate: string | undefined;

/** The longest `?wait=` honoured, in ms. */
export const MAX_WAIT_MS = 10_000;

/**
 * `GET /__attune/queue[?wait=ms]`: the counts, once every record sent is acked or `wait` ms
 * have passed (one request rather than a poll, each of which wrangler would print). Outside
 * `npm start`, on to the routes after it.
 */
async function queueStats(c: AppContext, next: () => Promise<void>): Promise<Response | undefined> {
  if (!devRoutesOn(c.env)) {
    await next();
    return undefined;
  }
  const wait = Math.min(MAX_WAIT_MS, Math.max(0, Number(c.req.query('wait') ?? 0) || 0));
  const until = Date.now() + wait;
  while (queueCounts.acked < queueCounts.sent && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
  isolate ??= crypto.randomUUID();
  return c.json({ isolate, ...queueCounts }, 200, { 'cache-control': 'no-store' });
}

export const queueRoutes = new Hono<AppEnv>().get('/__attune/queue', queueStats);
