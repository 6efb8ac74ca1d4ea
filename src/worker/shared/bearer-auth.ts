/**
 * Bearer-token auth: /admin/* takes the admin token; server-to-server partner endpoints
 * (/v1/bid-adjust) take it or one of PARTNER_TOKENS. Tokens are Worker secrets, compared in
 * constant time.
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { sameText } from '../../core/mac-text.ts';
import { HttpError } from './http-error.ts';
import { settings } from './settings.ts';
import type { AppEnv } from './types.ts';

/** The admin page's session cookie (experiments/page-routes.ts), scoped to its own path. */
export const ADMIN_COOKIE = 'att_admin';

/** The bearer token of an Authorization header ('' for none; the scheme is case-insensitive, RFC 7235). */
export function bearerToken(header: string | undefined): string {
  return header !== undefined && /^bearer /i.test(header) ? header.slice(7).trim() : '';
}

const bearer = (c: Context<AppEnv>): string => bearerToken(c.req.header('authorization'));

/** The label of the admin token `given` is (ADMIN_TOKEN: `admin`; ADMIN_TOKENS: its own), or null. */
export function adminLabel(c: { readonly env: Env }, given: string): string | null {
  let label: string | null = null;
  // every token compared: no early exit
  for (const t of settings(c.env).adminTokens) if (sameText(given, t.token) && label === null) label = t.label;
  return label;
}

/** Admin calls: ADMIN_TOKEN or one of ADMIN_TOKENS; the token's label is `c.get('admin')`, for the audit log. */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (settings(c.env).adminTokens.length === 0) throw new HttpError(503, 'admin_disabled', 'ADMIN_TOKEN is not configured');
  const label = adminLabel(c, bearer(c));
  if (label === null) {
    c.header('www-authenticate', 'Bearer realm="attune-admin"');
    throw new HttpError(401, 'unauthorized', 'a valid admin bearer token is required');
  }
  c.set('admin', label);
  await next();
});

/**
 * For endpoints ad servers call from their own servers (/v1/bid-adjust): the admin token, or
 * one of the comma-separated PARTNER_TOKENS, so each partner can be given (and lose) its own.
 */
export const requirePartner = createMiddleware<AppEnv>(async (c, next) => {
  const given = bearer(c);
  let ok = false;
  for (const t of settings(c.env).partnerTokens) ok = sameText(given, t) || ok; // every token compared: no early exit
  if (!ok) {
    c.header('www-authenticate', 'Bearer realm="attune-partner"');
    throw new HttpError(401, 'unauthorized', 'a partner (or admin) bearer token is required', 'authorization');
  }
  await next();
});
