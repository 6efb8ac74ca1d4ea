/**
 * Resolves the request's site once, before any route: `c.var.site` is the site, and `c.env`
 * becomes the site's view of the environment (site-env.ts), so every route below reads the
 * site's models, rules and experiments without knowing sites exist. The default site keeps the
 * Worker's env itself. A host no site names, when sites are configured, gets a 404 for site
 * routes, never another site's content.
 *
 * Deployment-wide endpoints (the bidder's, the site admin, health, the snippet) skip this and
 * answer on any host, as do the admin page's hosts (ADMIN_HOST), which manage the default site.
 */
import { createMiddleware } from 'hono/factory';
import { kvOf } from '../shared/bindings.ts';
import { isAdminHost } from '../shared/admin-host.ts';
import { HttpError } from '../shared/http-error.ts';
import { storeOptions } from '../shared/settings.ts';
import type { AppEnv } from '../shared/types.ts';
import { siteEnv } from './site-env.ts';
import { resolveHost } from './site-resolve.ts';
import { DEFAULT, hostnameOf } from './site-names.ts';
import type { Site } from './site-schema.ts';

/** Paths that belong to the deployment, not to a site: answered on every host. */
const DEPLOYMENT_WIDE =
  /^\/(?:openrtb2\/|admin\/sites(?:\/|$)|admin\/campaigns(?:\/|$)|admin\/fx-rates$|healthz$|__attune\/|openapi\.json$|attune\.js$|v1\/bid-adjust$)/;

/** The request's site (the default site where the middleware did not run, or the path is deployment-wide). */
export const siteOf = (c: { get(key: 'site'): Site | undefined }): Site => c.get('site') ?? DEFAULT;

export const isDeploymentWide = (path: string): boolean => DEPLOYMENT_WIDE.test(path);

export const resolveSite = createMiddleware<AppEnv>(async (c, next) => {
  // the Host header, not the URL: a route-derived URL may name another host (local dev keeps it)
  const host = hostnameOf(c.req.header('host') ?? new URL(c.req.url).host);
  // no site set: site tokens are refused here (shared/bearer-auth.ts)
  if (isDeploymentWide(c.req.path) || isAdminHost(c.env, host)) return next();
  const site = await resolveHost(kvOf(c.env), host, storeOptions(c, Date.now()));
  if (site === 'unknown') throw new HttpError(404, 'unknown_site', `no site is configured for host "${host}"`, 'host');
  c.set('site', site);
  c.env = siteEnv(c.env, site);
  return next();
});
