/**
 * The origin behind proxy mode: `ORIGIN_URL` (scheme, host, optional base path). A request is
 * forwarded with its method, headers (minus attune's own cookies) and streamed body to the URL
 * `upstreamUrl` builds from parts (origin-url.ts: whatever the path holds, it goes to the
 * origin's host or is refused); redirects are not followed but passed to the browser with a
 * Location on the origin mapped back to the public host. `ORIGIN_TIMEOUT_MS` bounds the wait
 * for the origin's response headers (a slow origin answers 504, an unreachable one 502, both
 * saying which in `x-attune-origin`). The body is the origin's stream as the runtime hands it
 * over: a personalized page's is guarded on its way through the rewriter (page-stream.ts: idle
 * gap, overall deadline, size), a pass-through body is not touched at all.
 */
import { ADMIN_COOKIE } from '../shared/bearer-auth.ts';
import { parseOriginUrl, publicLocation, type OriginBase } from './origin-url.ts';
import { log } from '../shared/log.ts';
import { settings, type SettingsEnv } from '../shared/settings.ts';
import { PROFILE_COOKIE, VISITOR_COOKIE } from '../visitor/visitor.ts';

export type OriginResult =
  | { ok: true; response: Response /** aborts the fetch, its body included */; abort: () => void }
  | { ok: false; reason: 'timeout' | 'unreachable'; error: string };

export interface OriginConfig {
  readonly base: OriginBase;
  readonly timeoutMs: number;
}

type OriginEnv = SettingsEnv & { readonly ORIGIN_URL?: string | undefined };

/** Parsed once per isolate (and per value: tests hand the app other envs). */
let memo: { url: string | undefined; timeoutMs: number; cfg: OriginConfig | null } | null = null;
const refused = new Set<string>();

/**
 * null when proxy mode is off: no ORIGIN_URL, or one that is refused, which is said once in the
 * log (without the value, which may hold credentials) rather than proxying half-working.
 */
export function originConfig(env: OriginEnv): OriginConfig | null {
  const timeoutMs = settings(env).originTimeoutMs;
  if (memo !== null && memo.url === env.ORIGIN_URL && memo.timeoutMs === timeoutMs) return memo.cfg;
  const raw = env.ORIGIN_URL?.trim();
  let cfg: OriginConfig | null = null;
  if (raw) {
    const parsed = parseOriginUrl(raw);
    if (parsed.ok) cfg = { base: parsed.value, timeoutMs };
    else if (!refused.has(raw)) {
      if (refused.size >= 16) refused.clear();
      refused.add(raw);
      log.error('proxy mode off: ORIGIN_URL refused', { rule: parsed.rule });
    }
  }
  memo = { url: env.ORIGIN_URL, timeoutMs, cfg };
  return cfg;
}

/** The Cookie header without attune's cookies: the origin has no business with them (least of all the admin session). */
export function stripOwnCookies(cookie: string): string {
  return cookie
    .split(';')
    .filter((p) => {
      const name = p.trim().split('=', 1)[0];
      return name !== VISITOR_COOKIE && name !== PROFILE_COOKIE && name !== ADMIN_COOKIE;
    })
    .join(';')
    .trim();
}

/**
 * Headers that say where a request came from or what it asked for are the proxy's to set: a
 * visitor's `X-Original-URL` or `Forwarded: host=…` could otherwise make the origin serve another
 * page (or links to another host) under a URL the edge cache then keys it by.
 */
const CLIENT_ROUTING_HEADERS = [
  'forwarded',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-host',
  'x-original-host',
  'x-original-url',
  'x-rewrite-url',
];

/**
 * `target` is the request's origin URL (`upstreamUrl`): built from parts, checked, never the raw
 * request URL. `dropAuthorization`: the request's `Authorization` is one of attune's own
 * credentials (never-forwarded.ts), which the origin must not see.
 */
export async function fetchOrigin(cfg: OriginConfig, req: Request, target: URL, dropAuthorization = false): Promise<OriginResult> {
  const incoming = new URL(req.url);
  const headers = new Headers(req.headers);
  for (const h of CLIENT_ROUTING_HEADERS) headers.delete(h);
  if (dropAuthorization) headers.delete('authorization');
  const cookie = headers.get('cookie');
  if (cookie !== null) {
    const rest = stripOwnCookies(cookie);
    if (rest) headers.set('cookie', rest);
    else headers.delete('cookie');
  }
  headers.set('x-forwarded-host', incoming.host);
  headers.set('x-forwarded-proto', incoming.protocol.slice(0, -1));
  headers.delete('host');
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), cfg.timeoutMs);
  let response: Response;
  try {
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    response = await fetch(target, {
      method: req.method,
      headers,
      body: hasBody ? req.body : null,
      redirect: 'manual',
      signal: controller.signal,
    });
  } catch (err) {
    return { ok: false, reason: controller.signal.aborted ? 'timeout' : 'unreachable', error: String(err) };
  } finally {
    clearTimeout(timer); // headers are in
  }
  return { ok: true, response: mapLocation(response, target, cfg.base, incoming.origin), abort: () => controller.abort() };
}

/** A redirect to the origin's own host would send the browser around the proxy: map it back. */
function mapLocation(res: Response, upstream: URL, base: OriginBase, publicOrigin: string): Response {
  const loc = res.headers.get('location');
  if (loc === null || res.status < 300 || res.status >= 400) return res;
  const mapped = publicLocation(loc, upstream, base, publicOrigin);
  if (mapped === null) return res;
  const out = new Response(res.body, res);
  out.headers.set('location', mapped);
  return out;
}

export function originFailure(reason: 'timeout' | 'unreachable'): Response {
  const status = reason === 'timeout' ? 504 : 502;
  const message = reason === 'timeout' ? 'The site took too long to answer.' : 'The site could not be reached.';
  return new Response(`<!doctype html><meta charset="utf-8"><title>${status}</title><p>${message} Please try again in a moment.</p>\n`, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '5', 'x-attune-origin': reason },
  });
}
