/**
 * Which exchange sent a bid request (exchange-keys.ts): its key as `Authorization: Bearer <key>`,
 * or its path token in `/openrtb2/bid/<exchangeId>/<token>`. No credential is a 401 (with
 * `WWW-Authenticate`), a wrong one a 403, both with the JSON error shape; with `EXCHANGE_KEYS`
 * unset every request is refused. There is no open mode: a bid hands out signed notice URLs that
 * book spend, so an unauthenticated caller is not an exchange (OpenRTB's no-bid 204 is for
 * exchanges).
 */
import { exchangeOfKey, parseExchangeKeys, pathTokenValid, type ExchangeKeys } from '../../core/bidding/exchange-keys.ts';
import { bearerToken } from '../shared/bearer-auth.ts';
import { HttpError } from '../shared/http-error.ts';
import type { AppContext } from '../shared/types.ts';
import { log } from '../shared/log.ts';

export const BID_REALM = 'Bearer realm="openrtb"';

/** Parsed once per isolate (per value of the secret); refused entries are logged then. */
let cached: { raw: string | undefined; keys: ExchangeKeys } | null = null;

export function exchangeKeys(raw: string | undefined): ExchangeKeys {
  if (cached !== null && cached.raw === raw) return cached.keys;
  const keys = parseExchangeKeys(raw);
  if (keys.problems.length > 0) log.error('EXCHANGE_KEYS entries refused', { problems: keys.problems });
  if (keys.entries.length === 0) log.warn('no exchange configured (EXCHANGE_KEYS): every bid request is refused');
  cached = { raw, keys };
  return keys;
}

/**
 * The exchange the request comes from, or an HttpError. `path` holds the path form's segments
 * (undefined for `POST /openrtb2/bid`).
 */
export function bidExchange(c: AppContext, path?: { exchange: string; token: string | undefined }): string {
  const keys = exchangeKeys(c.env.EXCHANGE_KEYS);
  if (path !== undefined) {
    if (!path.token) {
      c.header('www-authenticate', BID_REALM);
      throw new HttpError(401, 'unauthorized', 'the path form is /openrtb2/bid/<exchangeId>/<token>: the token is missing', 'path');
    }
    if (!pathTokenValid(keys, path.exchange, path.token)) {
      throw new HttpError(403, 'forbidden', 'not the path token of a configured exchange', 'path');
    }
    return path.exchange;
  }
  const key = bearerToken(c.req.header('authorization'));
  if (key === '') {
    c.header('www-authenticate', BID_REALM);
    throw new HttpError(401, 'unauthorized', 'an exchange key is required: Authorization: Bearer <key>', 'authorization');
  }
  const exchange = exchangeOfKey(keys, key);
  if (exchange === null) throw new HttpError(403, 'forbidden', 'not the key of a configured exchange', 'authorization');
  return exchange;
}
