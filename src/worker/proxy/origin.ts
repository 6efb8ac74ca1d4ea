/**
 * The origin behind proxy mode: `ORIGIN_URL` (scheme, host, optional base path). A request is
 * forwarded with its method, headers (minus attune's own cookies) and streamed body to the URL
 * `upstreamUrl` builds from parts (origin-url.ts: whatever the path holds, it goes to the
 * origin's host or is refused); redirects are not followed but passed to the browser with a
 * Location on the origin mapped back to the public host. `ORIGIN_TIMEOUT_MS` bounds the wait
 * for the origin's response headers (a slow origin answers 504, an unreachable one 502, both
 * saying which in `x-attune-origin`) and then every wait for the next chunk of its body: a body
 * silent that long is cut off and logged, so a stalled origin cannot hold a visitor's page (and
 * the Worker) open forever.
 */
import { ADMIN_COOKIE } from '../shared/bearer-auth.ts';
import { parseOriginUrl, publicLocation, type OriginBase } from './origin-url.ts';
import { log } from '../shared/log.ts';
import { settings, type SettingsEnv } from '../shared/settings.ts';
import { PROFILE_COOKIE, VISITOR_COOKIE } from '../visitor/visitor.ts';

export type OriginResult = { ok: true; response: Response } | { ok: false; reason: 'timeout' | 'unreachable'; error: string };

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

/** `target` is the request's origin URL (`upstreamUrl`): built from parts, checked, never the raw request URL. */
export async function fetchOrigin(cfg: OriginConfig, req: Request, target: URL): Promise<OriginResult> {
  const incoming = new URL(req.url);
  const headers = new Headers(req.headers);
  for (const h of CLIENT_ROUTING_HEADERS) headers.delete(h);
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
    clearTimeout(timer); // headers are in: from here the body's pauses are timed
  }
  const path = incoming.pathname;
  const body = idleLimited(response, cfg.timeoutMs, () => {
    log.error('origin body stalled; cut off', { path, idleMs: cfg.timeoutMs });
    controller.abort();
  });
  return { ok: true, response: mapLocation(body, target, cfg.base, incoming.origin) };
}

/**
 * `res` with a body that errors when the origin keeps us waiting `idleMs` for its next chunk
 * (`onIdle` aborts the origin fetch). Only our waits on the origin are timed: the stream is
 * pulled, so a reader that pauses (a video buffered far enough) starts no clock.
 *
 * One timer for the whole body rather than a timer and a race per chunk (bench:proxy-profile
 * showed those per-chunk costs among the proxy's largest): when it fires it checks how long the
 * pending read has waited, and re-arms itself for the rest, or lapses when no read is pending.
 */
function idleLimited(res: Response, idleMs: number, onIdle: () => void): Response {
  if (res.body === null) return res;
  const reader = res.body.getReader();
  let controller: ReadableStreamDefaultController<Uint8Array>;
  let waitingSince = -1; // when the pending read began; -1 while none is
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stalled = false;
  const stopTimer = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  const check = () => {
    timer = null;
    if (waitingSince < 0) return; // the reader paused: no clock runs until it pulls again
    const left = waitingSince + idleMs - Date.now();
    if (left > 0) {
      timer = setTimeout(check, left);
      return;
    }
    stalled = true;
    onIdle();
    reader.cancel().catch(() => {});
    controller.error(new Error(`origin sent nothing for ${idleMs} ms`));
  };
  const body = new ReadableStream<Uint8Array>({
    start(ctl) {
      controller = ctl;
    },
    async pull(ctl) {
      waitingSince = Date.now();
      timer ??= setTimeout(check, idleMs);
      try {
        const next = await reader.read();
        if (stalled) return;
        waitingSince = -1;
        if (next.done) {
          stopTimer();
          ctl.close();
        } else ctl.enqueue(next.value);
      } catch (err) {
        if (stalled) return;
        waitingSince = -1;
        stopTimer();
        ctl.error(err);
      }
    },
    cancel: (reason) => {
      stopTimer();
      return reader.cancel(reason);
    },
  });
  return new Response(body, res);
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
