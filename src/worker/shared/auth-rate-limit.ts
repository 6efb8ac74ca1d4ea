/**
 * Failed sign-ins per client address: the admin bearer token, partner tokens and the admin page's
 * login form. A wrong credential is counted on the Workers Rate Limiting binding `AUTH_LIMITER`
 * (wrangler.toml: 20 a minute per address, per Cloudflare location); past it the address gets 429
 * with Retry-After for every attempt, right or wrong, until the period is over: otherwise a
 * guesser would simply ignore the 429s until a guess came back 200. A right credential is not
 * counted, so an admin's scripts and a partner's servers are never throttled by their own calls.
 *
 * The rate limiter can only count, not ask, so an address it refused is remembered per isolate
 * (bounded) for the period; each isolate learns it from the next failure the limiter refuses.
 *
 * The client is keyed like the events limit (shared/client-rate.ts `clientKey`: the address
 * Cloudflare saw, an IPv6 client by its /64), except that loopback counts (as one client): a
 * guesser on the developer's own machine is as unwelcome. Requests without CF-Connecting-IP
 * (tests, service bindings) are not counted.
 */
import type { Context } from 'hono';
import { clientKey } from './client-rate.ts';
import { HttpError } from './http-error.ts';
import { log } from './log.ts';
import type { AppEnv } from './types.ts';

/** The period of AUTH_LIMITER in wrangler.toml (keep the two in step). */
export const AUTH_RETRY_AFTER_SECONDS = 60;
const MAX_BLOCKED = 4096;

/** address key → until when (ms) this isolate refuses its sign-ins */
const blocked = new Map<string, number>();

type AuthCaller = Context<AppEnv>;

const keyOf = (c: AuthCaller): string | null => {
  const address = c.req.header('cf-connecting-ip');
  return address ? (clientKey(address) ?? 'loopback') : null;
};

function throttled(c: AuthCaller): HttpError {
  c.header('retry-after', String(AUTH_RETRY_AFTER_SECONDS));
  return new HttpError(429, 'rate_limited', `too many failed sign-ins from this address; retry after ${AUTH_RETRY_AFTER_SECONDS} s`);
}

/** A 429 when this address is throttled here; checked before the credential is. */
export function refuseThrottled(c: AuthCaller, now = Date.now()): void {
  const key = keyOf(c);
  if (key === null) return;
  const until = blocked.get(key);
  if (until === undefined) return;
  if (until > now) throw throttled(c);
  blocked.delete(key);
}

/**
 * Counts a failed attempt: a 429 when it takes the address past the limit, else nothing (the
 * caller answers its 401). A limiter that fails or is not bound counts nothing (logged): the
 * credential check itself still holds.
 */
export async function countFailure(c: AuthCaller, now = Date.now()): Promise<void> {
  const key = keyOf(c);
  if (key === null) return;
  let within = true;
  try {
    const limiter = c.env.AUTH_LIMITER;
    if (limiter === undefined) throw new Error('AUTH_LIMITER is not bound');
    within = (await limiter.limit({ key })).success;
  } catch (err) {
    log.error('auth rate limiter unavailable; failure not counted', { error: String(err) });
    return;
  }
  if (within) return;
  blocked.delete(key);
  blocked.set(key, now + AUTH_RETRY_AFTER_SECONDS * 1000);
  if (blocked.size > MAX_BLOCKED) blocked.delete(blocked.keys().next().value!);
  log.warn('failed sign-ins throttled', { client: key });
  throw throttled(c);
}

export function clearAuthBlocks(): void {
  blocked.clear();
}
