/**
 * /admin/sites: the deployment admin's (ADMIN_TOKEN only) list of sites, their hosts and
 * tokens. Writes are rare and the deployment admin's alone, so they go straight to KV: the
 * site's document, then its host keys (core/store-keys.ts). A host name belongs to one site;
 * the default site is created first, with the host names the deployment serves today, since
 * once any site exists a host no site names gets 404 (site-resolve.ts).
 */
import { Hono } from 'hono';
import { DEFAULT_SITE } from '../../core/log-layout.ts';
import { siteHostKey, siteKey } from '../../core/store-keys.ts';
import { requireDeploymentAdmin } from '../shared/bearer-auth.ts';
import { kvOf } from '../shared/bindings.ts';
import { readJson } from '../shared/body.ts';
import { HttpError } from '../shared/http-error.ts';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { listSites } from './admin-page-site.ts';
import { MAX_TOKENS, NewSite, parseSite, publicSite, SITE_ID_TEXT, SiteInput, type Site } from './site-schema.ts';
import { clearSiteCache } from './site-resolve.ts';
import { newSiteToken } from './site-tokens.ts';

const BODY_BYTES = 16 * 1024;

function idParam(c: AppContext): string {
  const id = c.req.param('id')!;
  if (!SITE_ID_TEXT.test(id))
    throw new HttpError(400, 'invalid_request', 'a site id is 1–64 of a-z 0-9 _ -, starting with a letter or digit', 'id');
  return id;
}

async function load(kv: KVNamespace, id: string): Promise<Site> {
  const site = parseSite(await kv.get(siteKey(id), 'json'));
  if (site === null) throw new HttpError(404, 'unknown_site', `no site "${id}"`, 'id');
  return site;
}

/** Writes the site, then points its host names at it and frees the ones it gave up. */
async function save(kv: KVNamespace, site: Site, before: Site | null): Promise<void> {
  const owners = await Promise.all(site.hostnames.map((h) => kv.get<string>(siteHostKey(h), 'json')));
  const taken = site.hostnames.findIndex((_, i) => owners[i] !== null && owners[i] !== site.id);
  if (taken >= 0)
    throw new HttpError(409, 'hostname_taken', `host "${site.hostnames[taken]}" belongs to site "${owners[taken]}"`, `hostnames.${taken}`);
  await kv.put(siteKey(site.id), JSON.stringify(site));
  await Promise.all(site.hostnames.map((h, i) => (owners[i] === site.id ? null : kv.put(siteHostKey(h), JSON.stringify(site.id)))));
  const gone = (before?.hostnames ?? []).filter((h) => !site.hostnames.includes(h));
  await Promise.all(gone.map((h) => kv.delete(siteHostKey(h))));
  clearSiteCache(); // this isolate sees it at once; others within the refresh interval
}

const unique = (hosts: readonly string[]) => [...new Set(hosts)];

export const siteRoutes = new Hono<AppEnv>()
  .use('/admin/sites', requireDeploymentAdmin)
  .use('/admin/sites/*', requireDeploymentAdmin)
  .get('/admin/sites', async (c) => {
    return c.json({ sites: (await listSites(kvOf(c.env))).map(publicSite) });
  })
  .post('/admin/sites', async (c) => {
    const kv = kvOf(c.env);
    const input = await readJson(c.req.raw, NewSite, BODY_BYTES);
    if ((await kv.get(siteKey(input.id))) !== null) throw new HttpError(409, 'site_exists', `a site "${input.id}" exists`, 'id');
    if (input.id !== DEFAULT_SITE && (await kv.get(siteKey(DEFAULT_SITE))) === null)
      throw new HttpError(
        409,
        'default_site_first',
        'create the default site first (id "default", with the host names this deployment serves today): once a site exists, hosts no site names get 404',
        'id',
      );
    const now = Date.now();
    const site: Site = { ...input, hostnames: unique(input.hostnames), tokens: [], createdAt: now, updatedAt: now };
    await save(kv, site, null);
    return c.json(publicSite(site), 201);
  })
  .get('/admin/sites/:id', async (c) => c.json(publicSite(await load(kvOf(c.env), idParam(c)))))
  .put('/admin/sites/:id', async (c) => {
    const kv = kvOf(c.env);
    const before = await load(kv, idParam(c));
    const input = await readJson(c.req.raw, SiteInput, BODY_BYTES);
    const site: Site = {
      id: before.id,
      ...input,
      hostnames: unique(input.hostnames),
      tokens: before.tokens,
      createdAt: before.createdAt,
      updatedAt: Date.now(),
    };
    await save(kv, site, before);
    return c.json(publicSite(site));
  })
  .post('/admin/sites/:id/tokens', async (c) => {
    const kv = kvOf(c.env);
    const site = await load(kv, idParam(c));
    if (site.tokens.length >= MAX_TOKENS)
      throw new HttpError(409, 'too_many_tokens', `a site holds at most ${MAX_TOKENS} tokens; revoke one first`, 'id');
    const now = Date.now();
    const { token, stored } = await newSiteToken(site.id, now);
    await save(kv, { ...site, tokens: [...site.tokens, stored], updatedAt: now }, site);
    return c.json({ site: site.id, id: stored.id, token, note: 'shown once: only its hash is kept' }, 201);
  })
  .delete('/admin/sites/:id/tokens/:token', async (c) => {
    const kv = kvOf(c.env);
    const site = await load(kv, idParam(c));
    const tokenId = c.req.param('token');
    if (!site.tokens.some((t) => t.id === tokenId))
      throw new HttpError(404, 'unknown_token', `site "${site.id}" has no token "${tokenId}"`, 'token');
    await save(kv, { ...site, tokens: site.tokens.filter((t) => t.id !== tokenId), updatedAt: Date.now() }, site);
    return c.json({ site: site.id, revoked: tokenId });
  });
