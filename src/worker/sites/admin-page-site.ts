/**
 * Which site an admin page (/ui/experiments) acts on, and the site switcher it shows.
 *
 * - On a site's own host (the pages answer there when ADMIN_HOST is unset and proxy mode off):
 *   the host's site, as for every route (site-middleware.ts).
 * - On ADMIN_HOST, which the site middleware leaves to the default site: a site token's session
 *   acts for its own site; the deployment admin picks one with `?site=<id>` (the default site
 *   without it), and the page carries that query on every link and form of it.
 *
 * The chosen site's env view (site-env.ts) replaces `c.env`, as the site middleware's does, so
 * the pages read and write that site's experiments without knowing sites exist.
 */
import { createMiddleware } from 'hono/factory';
import { DEFAULT_SITE } from '../../core/log-layout.ts';
import { SITE_PREFIX } from '../../core/store-keys.ts';
import { isAdminHost } from '../shared/admin-host.ts';
import { kvOf } from '../shared/bindings.ts';
import { HttpError } from '../shared/http-error.ts';
import { kvBase } from '../shared/kv-view.ts';
import { storeOptions } from '../shared/settings.ts';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { siteEnv } from './site-env.ts';
import { cachedSite } from './site-resolve.ts';
import { parseSite, SITE_ID_TEXT, type Site } from './site-schema.ts';

/** Every stored site (the deployment's list: /admin/sites and the switcher). */
export async function listSites(kv: KVNamespace): Promise<Site[]> {
  const sites: Site[] = [];
  let cursor: string | undefined;
  do {
    const page = await kv.list({ prefix: SITE_PREFIX, ...(cursor ? { cursor } : {}) });
    for (const raw of await Promise.all(page.keys.map((k) => kv.get(k.name, 'json')))) {
      const s = parseSite(raw);
      if (s !== null) sites.push(s);
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return sites;
}

const onAdminHost = (c: AppContext): boolean => isAdminHost(c.env, new URL(c.req.url).hostname);

/** After the page's session guard: sets the site the page acts on and its env view (the rules above). */
export const adminPageSite = createMiddleware<AppEnv>(async (c, next) => {
  const asked = c.req.query('site');
  if (!onAdminHost(c)) {
    if (asked !== undefined)
      throw new HttpError(400, 'invalid_request', 'site: a site is chosen on ADMIN_HOST only; elsewhere the host names it', 'site');
    return next(); // the host's site; the guard refused another site's session
  }
  const own = c.get('adminSite');
  if (own !== undefined && asked !== undefined && asked !== own)
    throw new HttpError(403, 'forbidden', `this session is site "${own}"'s; it acts on no other site`, 'site');
  // chosen already: `${BASE}` and `${BASE}/*` both match the page's root, so this runs twice there
  if (c.get('site') !== undefined) return next();
  const id = own ?? asked ?? DEFAULT_SITE;
  if (!SITE_ID_TEXT.test(id))
    throw new HttpError(400, 'invalid_request', 'site: 1–64 of a-z 0-9 _ -, starting with a letter or digit', 'site');
  if (id === DEFAULT_SITE) return next(); // ADMIN_HOST's own: the Worker's env
  const site = await cachedSite(kvBase(kvOf(c.env)), id, storeOptions(c, Date.now()));
  if (site === null) throw new HttpError(404, 'unknown_site', `no site "${id}"`, 'site');
  c.set('site', site);
  c.env = siteEnv(c.env, site);
  await next();
});

/** What the page's links and forms carry to stay on the chosen site: `?site=<id>` (deployment admin on ADMIN_HOST), else ''. */
export function siteQuery(c: AppContext): string {
  const asked = c.req.query('site');
  return asked !== undefined && c.get('adminSite') === undefined && onAdminHost(c) ? `?site=${encodeURIComponent(asked)}` : '';
}

/** The switcher's view: the current site and, for the deployment admin once sites exist, every site with its link. */
export interface SiteBar {
  readonly current: string;
  readonly sites?: readonly { readonly id: string; readonly href: string | null }[];
}

/** The site bar of an admin page at `base` (null: no sites configured, so none to show). */
export async function siteBar(c: AppContext, base: string): Promise<SiteBar | null> {
  const current = c.get('site')?.id ?? DEFAULT_SITE;
  const own = c.get('adminSite');
  if (own !== undefined) return { current: own };
  const sites = await listSites(kvBase(kvOf(c.env)));
  if (sites.length === 0) return null;
  const url = new URL(c.req.url);
  const admin = onAdminHost(c);
  return {
    current,
    sites: sites.map((s) => ({
      id: s.id,
      // on ADMIN_HOST the query picks the site; elsewhere each site's page is on its own first host
      href: admin
        ? `${base}${s.id === DEFAULT_SITE ? '' : `?site=${s.id}`}`
        : s.hostnames[0] !== undefined
          ? `${url.protocol}//${s.hostnames[0]}${url.port ? `:${url.port}` : ''}${base}`
          : null,
    })),
  };
}
