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
 * reason. The route itself is queue-routes.ts.
 */
export const queueCounts = { sent: 0, acked: 0 };

export const devRoutesOn = (env: Env): boolean => (env as { ATTUNE_DEV?: unknown }).ATTUNE_DEV === '1';
