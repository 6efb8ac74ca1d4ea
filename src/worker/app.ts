/**
 * The Hono app: every feature's routes (each folder's `*-routes.ts`, mounted here and nowhere
 * else), CORS for browser callers, the proxy behind them all, and the one error boundary.
 *
 * Every feature's routes load on the first request that needs them (`lazyRoutes` and
 * `lazyHandler` below): the decision path, events, bidding, recommendations, experiments admin,
 * the API document and the proxy. An isolate's start-up pays only for what every request needs:
 * the router, the sites, CORS, the admin guard, the snippet, and the Durable Object classes the
 * runtime asks for by name (index.ts).
 */
import { Hono, type ErrorHandler, type MiddlewareHandler, type NotFoundHandler } from 'hono';
import { isAdminHost } from './shared/admin-host.ts';
import { queueRoutes } from './log/queue-routes.ts';
import { requireAdmin } from './shared/bearer-auth.ts';
import { cors } from './shared/cors.ts';
import { errorBody, HttpError } from './shared/http-error.ts';
import { settings, type Settings } from './shared/settings.ts';
import type { AppContext, AppEnv } from './shared/types.ts';
import { snippetRoutes } from './snippet/snippet-routes.ts';
import { resolveSite } from './sites/site-middleware.ts';
import type { Site } from './sites/site-schema.ts';
import { log } from './shared/log.ts';

export const app = new Hono<AppEnv>();

// Proxy mode: whatever the API does not answer goes to the origin (ORIGIN_URL), personalized
// where page rules say so. The not-found handler, so it stays last however many routes are
// added. Never on the admin page's hosts (ADMIN_HOST): no site page may share the admin's origin.
const notFound: NotFoundHandler<AppEnv> = async (c) =>
  (isAdminHost(c.env, new URL(c.req.url).hostname) ? null : await (await import('./proxy/proxy.ts')).proxyRequest(c)) ??
  c.json(errorBody('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404);

const onError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof HttpError) return c.json(errorBody(err.code, err.message, err.field), err.status);
  // Anything else is our bug: log it whole, answer without internals.
  log.error('unhandled error', { path: new URL(c.req.url).pathname, error: String(err), stack: (err as Error).stack });
  return c.json(errorBody('internal_error', 'unexpected error; it has been logged'), 500);
};

/** The site of a request handed to lazily loaded routes (a Hono app of their own, with variables of its own). */
const siteOfRequest = new WeakMap<Request, Site>();

/**
 * A feature's routes, loaded by the first request that needs them: `import()` keeps their
 * modules, and the schemas those build at module scope, out of the isolate's start-up (the build,
 * scripts/build-worker.mjs, makes each a module of its own, which workerd compiles only when it
 * is imported). A router cannot take routes once it has matched a request, so they run as an app
 * of their own, behind the same not-found and error handlers, with this app's middleware around
 * them: they answer exactly as if mounted here.
 */
function lazyRoutes(load: () => Promise<readonly Hono<AppEnv>[]>): MiddlewareHandler<AppEnv> {
  const routes = loadOnce(async () => {
    const sub = new Hono<AppEnv>().notFound(notFound).onError(onError);
    // the request's site, resolved by this app's middleware, goes along with the request
    sub.use('*', async (inner, next) => {
      const site = siteOfRequest.get(inner.req.raw);
      if (site !== undefined) inner.set('site', site);
      await next();
    });
    for (const a of await load()) sub.route('/', a);
    return sub;
  });
  return async (c) => {
    let ctx: AppContext['executionCtx'] | undefined;
    try {
      ctx = c.executionCtx;
    } catch {
      // called without one (app.fetch in a script): the routes see none either
    }
    const site = c.get('site');
    if (site !== undefined) siteOfRequest.set(c.req.raw, site);
    return (await routes()).fetch(c.req.raw, c.env, ctx);
  };
}

/**
 * A route's handler, loaded by the first request that needs it like `lazyRoutes`, then called in
 * this app's own context: for the decision, the hottest route, a second app's routing and
 * context on every request would be a measurable part of its time. It answers as it did behind
 * `lazyRoutes`: errors go to the same `onError`, other methods to the same not-found handler.
 */
function lazyHandler(load: () => Promise<(c: AppContext) => Promise<Response>>): MiddlewareHandler<AppEnv> {
  const handler = loadOnce(load);
  return async (c) => (await handler())(c);
}

/** `load()`'s result, loaded by the first call and shared by the later ones; a failed load is retried by the next call. */
function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () =>
    (loaded ??= load().catch((err: unknown) => {
      loaded = undefined;
      throw err;
    }));
}

/** The CORS middleware for this isolate's ALLOWED_ORIGINS, built once per settings. */
const corsOf = new WeakMap<Settings, MiddlewareHandler>();

// Every request's site, once, before any route (sites/site-middleware.ts): site routes then see
// the site's env; a host no site names gets 404 for them.
app.use('*', resolveSite);

app.use('/v1/*', async (c, next) => {
  if (c.req.path === '/v1/bid-adjust') return next(); // server to server (bidding/bid-adjust-routes.ts): no browser grant
  const s = settings(c.env);
  let handler = corsOf.get(s);
  if (handler === undefined) {
    handler = cors({
      origins: s.allowedOrigins === '*' ? '*' : [...s.allowedOrigins],
      methods: ['GET', 'POST', 'OPTIONS'],
      headers: ['content-type'],
      expose: ['x-attune-fallback', 'retry-after'], // retry-after: a 429 from /v1/events
      maxAgeSeconds: 86400,
    });
    corsOf.set(s, handler);
  }
  return handler(c, next);
});

// The decision path too: its request schemas are most of what start-up would otherwise build
// (zod schemas are costly to construct), and a request that is not a decision (an event, the
// snippet, a proxied page, a bid) need not pay for them. Once loaded, its handler runs in this
// app's context (`lazyHandler`), without a second app's routing.
const decide = lazyHandler(async () => (await import('./decide/decide-routes.ts')).decide);
const score = lazyRoutes(async () => [(await import('./decide/score-routes.ts')).scoreRoutes]);
const events = lazyRoutes(async () => [(await import('./events/events-routes.ts')).eventRoutes]);
const recommend = lazyRoutes(async () => [(await import('./recommend/recommend-routes.ts')).recommendRoutes]);
const bidding = lazyRoutes(async () => {
  const [bid, notice, click, admin, adjust, stats, page] = await Promise.all([
    import('./bidding/bid-routes.ts'),
    import('./bidding/notice-routes.ts'),
    import('./bidding/click-routes.ts'),
    import('./bidding/admin-routes.ts'),
    import('./bidding/bid-adjust-routes.ts'),
    import('./bidding/stats-routes.ts'),
    import('./bidding/page-routes.ts'),
  ]);
  // the order they were mounted in before: campaign stats after the campaign admin routes
  return [
    bid.bidRoutes,
    notice.noticeRoutes,
    click.clickRoutes,
    admin.adminCampaignRoutes,
    stats.campaignStatsRoutes,
    page.campaignPageRoutes,
    adjust.bidAdjustRoutes,
  ];
});
const experiments = lazyRoutes(async () => {
  const [admin, reports, page] = await Promise.all([
    import('./experiments/admin-routes.ts'),
    import('./experiments/report-page-routes.ts'),
    import('./experiments/page-routes.ts'),
  ]);
  // the reports before the page: its `/:key` route would take `_reports`
  return [admin.experimentAdminRoutes, reports.reportPageRoutes, page.experimentPageRoutes];
});
const openApi = lazyRoutes(async () => [(await import('./openapi/openapi-routes.ts')).openApiRoutes]);
const models = lazyRoutes(async () => [(await import('./models/admin-routes.ts')).adminModelRoutes]);
const sites = lazyRoutes(async () => [(await import('./sites/sites-routes.ts')).siteRoutes]);

// In the order the routes were mounted before they loaded lazily.
app.post('/v1/decide', decide);
app.all('/v1/score', score);
app.all('/v1/recommend', recommend);
app.all('/v1/events', events);
// Every /admin/* call needs an admin's token, checked here before any feature's own guard (the
// model routes' guard did this when they were mounted here; they keep it, for their own app).
app.use('/admin/*', requireAdmin);
for (const path of ['/admin/models', '/admin/models/*']) app.all(path, models);
for (const path of [
  '/openrtb2/*',
  '/admin/campaigns',
  '/admin/campaigns/*',
  '/admin/fx-rates',
  '/v1/bid-adjust',
  '/ui/campaigns',
  '/ui/campaigns/*',
])
  app.all(path, bidding);
for (const path of ['/admin/experiments', '/admin/experiments/*', '/ui/experiments', '/ui/experiments/*']) app.all(path, experiments);
app.get('/openapi.json', openApi);
app.route('/', snippetRoutes);
for (const path of ['/admin/sites', '/admin/sites/*']) app.all(path, sites);

app.get('/healthz', (c) => c.json({ ok: true }));
// `npm start` only (log/queue-routes.ts): what its graceful stop waits for
app.route('/', queueRoutes);

app.notFound(notFound);
app.onError(onError);
