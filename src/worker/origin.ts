/**
 * The origin behind proxy mode: `ORIGIN_URL` (scheme, host, optional base path). A request is
 * forwarded with its method, headers (minus attune's own cookies) and streamed body; redirects
 * are not followed but passed to the browser with their Location mapped back to the public
 * host. `ORIGIN_TIMEOUT_MS` bounds the wait for the origin's response headers (a slow origin
 * answers 504, an unreachable one 502, both saying which in `x-attune-origin`) and then every
 * wait for the next chunk of its body: a body silent that long is cut off and logged, so a
 * stalled origin cannot hold a visitor's page (and the Worker) open forever.
 */
import { ADMIN_COOKIE } from './admin-auth.ts';
import { PROFILE_COOKIE, VISITOR_COOKIE } from './visitor.ts';

export const DEFAULT_ORIGIN_TIMEOUT_MS = 10_000;

export type OriginResult =
  | { ok: true; response: Response }
  | { ok: false; reason: 'timeout' | 'unreachable'; error: string };

export interface OriginConfig {
  readonly base: URL;
  readonly timeoutMs: number;
}

/** null when proxy mode is off (no or an unusable ORIGIN_URL). */
export function originConfig(env: { ORIGIN_URL?: string; ORIGIN_TIMEOUT_MS?: string }): OriginConfig | null {
  const raw = env.ORIGIN_URL?.trim();
  if (!raw) return null;
  let base: URL;
  try {
    base = new URL(raw);
  } catch {
    return null;
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') return null;
  const t = Number(env.ORIGIN_TIMEOUT_MS ?? NaN);
  return { base, timeoutMs: Number.isFinite(t) && t > 0 ? t : DEFAULT_ORIGIN_TIMEOUT_MS };
}

export function originUrlOf(base: URL, incoming: URL): URL {
  const prefix = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname;
  return new URL(`${prefix}${incoming.pathname}${incoming.search}`, base);
}

/** The Cookie header without attune's cookies: the origin has no business with them (least of all the admin session). */
export function stripOwnCookies(cookie: string): string {
  return cookie.split(';').filter((p) => {
    const name = p.trim().split('=', 1)[0];
    return name !== VISITOR_COOKIE && name !== PROFILE_COOKIE && name !== ADMIN_COOKIE;
  }).join(';').trim();
}

export async function fetchOrigin(cfg: OriginConfig, req: Request): Promise<OriginResult> {
  const incoming = new URL(req.url);
  const headers = new Headers(req.headers);
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
    response = await fetch(originUrlOf(cfg.base, incoming), {
      method: req.method, headers, body: hasBody ? req.body : null, redirect: 'manual', signal: controller.signal,
    });
  } catch (err) {
    return { ok: false, reason: controller.signal.aborted ? 'timeout' : 'unreachable', error: String(err) };
  } finally {
    clearTimeout(timer); // headers are in: from here the body's pauses are timed
  }
  const path = incoming.pathname;
  const body = idleLimited(response, cfg.timeoutMs, () => {
    console.error(JSON.stringify({ msg: 'origin body stalled; cut off', path, idleMs: cfg.timeoutMs }));
    controller.abort();
  });
  return { ok: true, response: mapLocation(body, cfg.base, incoming) };
}

/**
 * `res` with a body that errors when the origin keeps us waiting `idleMs` for its next chunk
 * (`onIdle` aborts the origin fetch). Only our waits on the origin are timed: the stream is
 * pulled, so a reader that pauses (a video buffered far enough) starts no clock.
 */
function idleLimited(res: Response, idleMs: number, onIdle: () => void): Response {
  if (res.body === null) return res;
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      let timer: ReturnType<typeof setTimeout> | null = null;
      const idle = new Promise<'idle'>((resolve) => { timer = setTimeout(() => resolve('idle'), idleMs); });
      try {
        const next = await Promise.race([reader.read(), idle]);
        if (next === 'idle') {
          onIdle();
          reader.cancel().catch(() => {});
          ctl.error(new Error(`origin sent nothing for ${idleMs} ms`));
        } else if (next.done) ctl.close();
        else ctl.enqueue(next.value);
      } catch (err) {
        ctl.error(err);
      } finally {
        if (timer !== null) clearTimeout(timer);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(body, res);
}

/** A redirect to the origin's own host would send the browser around the proxy: map it back. */
function mapLocation(res: Response, base: URL, incoming: URL): Response {
  const loc = res.headers.get('location');
  if (loc === null || res.status < 300 || res.status >= 400) return res;
  let target: URL;
  try {
    target = new URL(loc, base);
  } catch {
    return res;
  }
  if (target.origin !== base.origin) return res;
  const out = new Response(res.body, res);
  out.headers.set('location', `${incoming.origin}${target.pathname}${target.search}${target.hash}`);
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
