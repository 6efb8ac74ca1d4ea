/**
 * Bearer-token auth: /admin/* takes the admin token (or a labelled one of ADMIN_TOKENS, or, on a
 * site's own routes, one of that site's tokens: sites/site-tokens.ts); server-to-server partner endpoints
 * (/v1/bid-adjust) take it or one of PARTNER_TOKENS. Tokens are Worker secrets of 32 characters
 * or more (settings.ts refuses weaker ones), compared in constant time; wrong ones are counted
 * per client address, and too many answer 429 (auth-rate-limit.ts).
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { sameText } from '../../core/mac-text.ts';
import { countFailure, refuseThrottled } from './auth-rate-limit.ts';
import { HttpError } from './http-error.ts';
import { settings, storeOptions } from './settings.ts';
import { kvOf } from './bindings.ts';
import { kvBase } from './kv-view.ts';
import { siteTokenCheck } from '../sites/site-tokens.ts';
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

/** The admin API's and page's answer when no admin token is set (or each was refused as weak). */
export const adminDisabled = (): HttpError =>
  new HttpError(503, 'admin_disabled', 'ADMIN_TOKEN is not configured (unset, or refused: shorter than 32 characters or an example value)');

/** Admin calls: ADMIN_TOKEN or one of ADMIN_TOKENS; the token's label is `c.get('admin')`, for the audit log. */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (settings(c.env).adminTokens.length === 0) throw adminDisabled();
  refuseThrottled(c);
  const given = bearer(c);
  let label = adminLabel(c, given);
  if (label === null) {
    // a site's token acts for its own site only (sites/site-tokens.ts); the request's site is unset on deployment-wide paths
    const site = c.get('site')?.id;
    const check = await siteTokenCheck(kvBase(kvOf(c.env)), given, site, storeOptions(c, Date.now()));
    if (check === 'other')
      throw new HttpError(403, 'forbidden', `this token is another site's; it acts only on its own site's hosts and endpoints`);
    if (check === 'none') {
      await countFailure(c);
      c.header('www-authenticate', 'Bearer realm="attune-admin"');
      throw new HttpError(401, 'unauthorized', 'a valid admin bearer token is required');
    }
    label = `site:${site}:${given.split('.')[2]}`; // the site and the token's id, never the token
  }
  c.set('admin', label);
  await next();
});

/** The deployment's own admin token only (site tokens get 403): /admin/sites. */
export const requireDeploymentAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (settings(c.env).adminTokens.length === 0) throw adminDisabled();
  const label = adminLabel(c, bearer(c));
  if (label === null) throw new HttpError(403, 'forbidden', "the deployment's admin token is required");
  c.set('admin', label);
  await next();
});

/**
 * For endpoints ad servers call from their own servers (/v1/bid-adjust): the admin token, or
 * one of the comma-separated PARTNER_TOKENS, so each partner can be given (and lose) its own.
 */
export const requirePartner = createMiddleware<AppEnv>(async (c, next) => {
  const tokens = settings(c.env).partnerTokens;
  if (tokens.length === 0)
    throw new HttpError(503, 'not_configured', 'neither PARTNER_TOKENS nor ADMIN_TOKEN is configured (or each was refused as weak)');
  refuseThrottled(c);
  const given = bearer(c);
  let ok = false;
  for (const t of tokens) ok = sameText(given, t) || ok; // every token compared: no early exit
  if (!ok) {
    await countFailure(c);
    c.header('www-authenticate', 'Bearer realm="attune-partner"');
    throw new HttpError(401, 'unauthorized', 'a partner (or admin) bearer token is required', 'authorization');
  }
  await next();
});
