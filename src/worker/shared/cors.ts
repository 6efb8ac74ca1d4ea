/**
 * CORS for the browser API (`/v1/*`), on the hot path of every decision.
 *
 * Hono's `cors` middleware sets its headers on `c.res` before the route runs, which makes Hono
 * create a placeholder Response and then copy the route's Response into a new one, header by
 * header. Here the grant goes onto the route's own Response after it ran, and a preflight is
 * answered without running the route. The headers are the same as Hono's for this configuration.
 */
import type { MiddlewareHandler } from 'hono';

export interface CorsOptions {
  /** `'*'`, or the exact origins that may call */
  readonly origins: '*' | readonly string[];
  readonly methods: readonly string[];
  readonly headers: readonly string[];
  /** response headers a page's script may read */
  readonly expose: readonly string[];
  readonly maxAgeSeconds: number;
}

export function cors(o: CorsOptions): MiddlewareHandler {
  const any = o.origins === '*';
  const allowed = new Set(any ? [] : o.origins);
  const methods = o.methods.join(',');
  const headers = o.headers.join(',');
  const expose = o.expose.join(',');
  const maxAge = String(o.maxAgeSeconds);
  return async (c, next) => {
    const origin = c.req.header('origin');
    const allow = any ? '*' : origin !== undefined && allowed.has(origin) ? origin : null;
    if (c.req.method === 'OPTIONS') {
      const h = new Headers();
      if (allow !== null) h.set('access-control-allow-origin', allow);
      h.set('access-control-expose-headers', expose);
      if (!any) h.append('vary', 'Origin');
      h.set('access-control-max-age', maxAge);
      h.set('access-control-allow-methods', methods);
      h.set('access-control-allow-headers', headers);
      h.append('vary', 'Access-Control-Request-Headers');
      return new Response(null, { status: 204, headers: h });
    }
    await next();
    let res = c.res;
    try {
      grant(res.headers, allow, expose, any);
    } catch {
      // a Response with immutable headers (one fetched as is): grant on a copy
      res = new Response(res.body, res);
      grant(res.headers, allow, expose, any);
      c.res = undefined;
      c.res = res;
    }
  };
}

function grant(h: Headers, allow: string | null, expose: string, any: boolean): void {
  if (allow !== null) h.set('access-control-allow-origin', allow);
  h.set('access-control-expose-headers', expose);
  if (!any) h.append('vary', 'Origin');
}
