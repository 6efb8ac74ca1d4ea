/** Bearer-token auth for /admin/*: the token is a Worker secret, compared in constant time. */
import { createMiddleware } from 'hono/factory';
import { timingSafeEqualText } from './crypto.ts';
import { HttpError } from './http-error.ts';
import type { AppEnv } from './types.ts';

/** The admin page's session cookie (experiments/page.ts), scoped to its own path. */
export const ADMIN_COOKIE = 'att_admin';

export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  if (!expected) throw new HttpError(503, 'admin_disabled', 'ADMIN_TOKEN is not configured');
  const header = c.req.header('authorization') ?? '';
  const given = header.startsWith('Bearer ') ? header.slice(7) : '';
  if (!timingSafeEqualText(given, expected)) {
    c.header('www-authenticate', 'Bearer realm="attune-admin"');
    throw new HttpError(401, 'unauthorized', 'a valid admin bearer token is required');
  }
  await next();
});
