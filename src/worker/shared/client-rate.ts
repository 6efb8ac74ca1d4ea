/**
 * Per-client rate limits on the Workers Rate Limiting bindings (wrangler.toml `[[ratelimits]]`,
 * counted per Cloudflare location): `EVENTS_LIMITER` for `POST /v1/events`
 * (events/event-rate-limit.ts), `API_LIMITER` for the visitor API (`apiRateLimit`).
 *
 * The client is the address Cloudflare saw (`CF-Connecting-IP`, which it sets itself, so a
 * caller cannot choose it); an IPv6 client by its /64, since a subscriber is given at least
 * that much and may use any address in it. Not the visitor id: anyone can send a new one with
 * every request. Nor the address and visitor together, which a flood could also vary at will.
 * Many real visitors share an address (offices, carrier-grade NAT), which is why the limits are
 * high (docs/operations.md says how high and why).
 *
 * Not counted: a request without CF-Connecting-IP (Cloudflare sets it on every request from
 * the internet; without it the caller is inside: a test, or a Worker calling through a service
 * binding that did not pass it on, where one shared counter would throttle every visitor
 * behind it) and loopback, which only a developer's own machine sends (`npm start`, the
 * benchmarks and the browser suites, whose load tests must not be throttled).
 */
import { createMiddleware } from 'hono/factory';
import { errorBody } from './http-error.ts';
import { log } from './log.ts';
import type { AppEnv } from './types.ts';

const V4_LOOPBACK = /^127\./;
const V4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;
const GROUP = /^[0-9a-f]{1,4}$/i;

/** The key a client's requests are counted under, or null for a request that is not limited. */
export function clientKey(address: string | undefined): string | null {
  if (address === undefined || address === '') return null;
  const ip = V4_MAPPED.exec(address)?.[1] ?? address;
  if (!ip.includes(':')) return V4_LOOPBACK.test(ip) ? null : ip;
  const g = v6Groups(ip);
  if (g === null) return ip; // not an address Cloudflare would send: counted as it is
  if (g.every((x, i) => x === (i === 7 ? 1 : 0))) return null; // ::1
  return `${g
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded), or null when it is not one. */
function v6Groups(ip: string): number[] | null {
  const halves = ip.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const gap = 8 - head.length - tail.length;
  if (halves.length === 1 ? gap !== 0 : gap < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? gap : 0).fill('0'), ...tail];
  return groups.every((x) => GROUP.test(x)) ? groups.map((x) => parseInt(x, 16)) : null;
}

/** When each limiter's failure was last logged in this isolate: an outage says so once a minute. */
const saidAt = new Map<string, number>();

/**
 * Whether a request of this client may go on, counting it as `units` requests (the binding counts
 * one per `limit` call, so a heavier request calls it more often). A limiter that fails (or is
 * not bound) lets it through: requests lost to an outage of the limiter would be worse than a
 * minute without one; the failure is logged.
 */
export async function withinRate(limiter: RateLimit | undefined, name: string, address: string | undefined, units = 1): Promise<boolean> {
  const key = clientKey(address);
  if (key === null || units <= 0) return true;
  try {
    if (limiter === undefined) throw new Error(`${name} is not bound`);
    const calls: Promise<RateLimitOutcome>[] = [];
    for (let i = 0; i < units; i++) calls.push(limiter.limit({ key }));
    return (await Promise.all(calls)).every((o) => o.success);
  } catch (err) {
    const now = Date.now();
    if (now - (saidAt.get(name) ?? -Infinity) >= 60_000) {
      saidAt.set(name, now);
      log.error('rate limiter unavailable; requests let through', { limiter: name, error: String(err) });
    }
    return true;
  }
}

/** The period of API_LIMITER in wrangler.toml: after it, a throttled client is counted anew. */
export const API_RETRY_AFTER_SECONDS = 10;

/**
 * The visitor API's per-client limit (`/v1/decide`, `/v1/score`, `/v1/recommend`): 429 with
 * Retry-After past `API_LIMITER`'s number, before the body is read.
 */
export const apiRateLimit = createMiddleware<AppEnv>(async (c, next) => {
  if (!(await withinRate(c.env.API_LIMITER, 'API_LIMITER', c.req.header('cf-connecting-ip')))) {
    const message = `too many requests from this address to /v1/decide, /v1/score and /v1/recommend (API_LIMITER); retry after ${API_RETRY_AFTER_SECONDS} s`;
    return c.json(errorBody('rate_limited', message), 429, { 'retry-after': String(API_RETRY_AFTER_SECONDS) });
  }
  await next();
  return undefined;
});
