/**
 * What proxy mode never forwards to the origin.
 *
 * Paths: the API (`/v1`, `/admin`, `/openrtb2`), the admin page
 * (`/ui/experiments`), `/openapi.json`, `/healthz` and the snippet. The router answers them as
 * written; a spelling it does not route (`/Admin/models`, `/admin%2fmodels`, `/openrtb2%2Fbid`,
 * `/V1/decide`, `/admin;x/models`) would otherwise fall through to the origin with the admin
 * bearer or the exchange key it carries, so these are matched the way a lenient server reads a
 * path: percent-decoded (twice over, for origins that decode again), case-folded, `\` as `/`,
 * empty segments dropped, each segment without `;params` or trailing dots and spaces. Such a
 * request is answered 404 (app.ts's notFound) and never proxied.
 */
import { exchangeOfKey } from '../../core/bidding/exchange-keys.ts';
import { sameText } from '../../core/mac-text.ts';
import { exchangeKeys } from '../bidding/exchange-auth.ts';
import { bearerToken } from '../shared/bearer-auth.ts';
import { settings, type SettingsEnv } from '../shared/settings.ts';
import { SNIPPET_PATH } from '../snippet/snippet-url.ts';

const PREFIXES = new Set(['v1', 'admin', 'openrtb2']);
const EXACT = new Set(['openapi.json', 'healthz', SNIPPET_PATH.slice(1)]);
const ENCODED = /%[0-9a-f]{2}/i;

/** `%xx` decoded; a malformed sequence stays as it is (decodeURIComponent would throw on it). */
function decodeOnce(path: string): string {
  return path.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
    }
  });
}

/** The segments a lenient origin would route this path by. */
function routeSegments(path: string): string[] {
  let p = path;
  for (let i = 0; i < 3 && ENCODED.test(p); i++) p = decodeOnce(p);
  const out: string[] = [];
  for (const raw of p.toLowerCase().replace(/\\/g, '/').split('/')) {
    const seg = raw.split(';', 1)[0]!.replace(/[.\s]+$/, '');
    if (seg !== '') out.push(seg);
  }
  return out;
}

export function isApiPath(path: string): boolean {
  const segs = routeSegments(path);
  const head = segs[0];
  if (head === undefined) return false;
  if (PREFIXES.has(head)) return true;
  if (head === 'ui' && segs[1] === 'experiments') return true;
  return segs.length === 1 && EXACT.has(head);
}

/**
 * Whether an `Authorization` header carries one of attune's own credentials: the admin token, a
 * partner token or an exchange key, as a bearer. The proxy drops such a header (a client that
 * sent the admin bearer to a mistyped path must not hand it to the origin); every other
 * `Authorization` (Basic, the site's own bearer tokens) is the site's and is forwarded, since sites
 * behind the proxy may rely on it. Every token is compared in constant time.
 */
export function isOwnCredential(env: SettingsEnv & { readonly EXCHANGE_KEYS?: string | undefined }, header: string): boolean {
  const token = bearerToken(header);
  if (token === '') return false;
  let own = false;
  for (const t of settings(env).partnerTokens) own = sameText(token, t) || own; // the admin token is the first
  return exchangeOfKey(exchangeKeys(env.EXCHANGE_KEYS), token) !== null || own;
}
