/**
 * The per-client rate limit of `POST /v1/events`, on the Workers Rate Limiting binding
 * `EVENTS_LIMITER` (wrangler.toml: 5,000 requests per 10 s, counted per Cloudflare location).
 *
 * The client is the address Cloudflare saw (`CF-Connecting-IP`, which it sets itself, so a
 * caller cannot choose it); an IPv6 client by its /64, since a subscriber is given at least
 * that much and may use any address in it. Not the visitor id: anyone can send a new one with
 * every request. Nor the address and visitor together, which a flood could also vary at will.
 * Many real visitors share an address (offices, carrier-grade NAT), which is why the limit is
 * high (docs/operations.md says how high and why).
 *
 * Not counted: a request without CF-Connecting-IP (Cloudflare sets it on every request from
 * the internet; without it the caller is inside: a test, or a Worker calling through a service
 * binding that did not pass it on, where one shared counter would throttle every visitor
 * behind it) and loopback, which only a developer's own machine sends (`npm start`, the
 * benchmarks and the browser suites, whose load tests must not be throttled).
 */
import { log } from '../shared/log.ts';

/** The period of EVENTS_LIMITER in wrangler.toml: after it, a throttled client is counted anew. */
export const RETRY_AFTER_SECONDS = 10;

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

/**
 * Whether this request may go on. A limiter that fails (or is not bound) lets it through: events
 * lost to an outage of the limiter would be worse than a minute without one; the failure is logged.
 */
export async function withinEventRate(limiter: RateLimit | undefined, address: string | undefined): Promise<boolean> {
  const key = clientKey(address);
  if (key === null) return true;
  try {
    if (limiter === undefined) throw new Error('EVENTS_LIMITER is not bound');
    return (await limiter.limit({ key })).success;
  } catch (err) {
    log.error('event rate limiter unavailable; request let through', { error: String(err) });
    return true;
  }
}
