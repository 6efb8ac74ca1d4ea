/**
 * How many log records this isolate put on the queue and how many the consumer has acked, for
 * `npm start`'s graceful stop. Miniflare's local queue lives in memory: stopping `wrangler dev`
 * loses what it holds (production Queues are durable), so on Ctrl-C scripts/start.mjs polls
 * `GET /__attune/queue` until what was sent is acked, then stops the Worker. Locally one isolate
 * both produces and consumes, so its two counters describe the whole queue.
 *
 * The route exists only where the `ATTUNE_DEV` var is `1`: scripts/start.mjs sets it with
 * `--var`; wrangler.toml never does, so a deployed Worker does not have it (the path is then
 * an ordinary one: proxied, or a 404). It is read off `env` without a declared binding for that
 * reason.
 */
import type { AppContext } from './types.ts';

export const queueCounts = { sent: 0, acked: 0 };
/**
 * Which isolate counted: wrangler reloads the Worker when a source file changes, which starts
 * the counts over and (locally) drops what the queue held, and the caller must know.
 */
let isolate: string | undefined;

export const devRoutesOn = (env: Env): boolean => (env as { ATTUNE_DEV?: unknown }).ATTUNE_DEV === '1';

/** The longest `?wait=` honoured, in ms. */
export const MAX_WAIT_MS = 10_000;

/**
 * `GET /__attune/queue[?wait=ms]`: the counts, once every record sent is acked or `wait` ms
 * have passed (one request rather than a poll, each of which wrangler would print). Outside
 * `npm start`, on to the routes after it.
 */
export async function queueStatsRoute(c: AppContext, next: () => Promise<void>): Promise<Response | undefined> {
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
