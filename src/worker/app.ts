/**
 * The Hono app: every feature's routes (each folder's `*-routes.ts`, mounted here and nowhere
 * else), CORS for browser callers, the proxy behind them all, and the one error boundary.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { adminCampaignRoutes } from './bidding/admin-routes.ts';
import { bidAdjustRoutes } from './bidding/bid-adjust-routes.ts';
import { bidRoutes } from './bidding/bid-routes.ts';
import { clickRoutes } from './bidding/click-routes.ts';
import { noticeRoutes } from './bidding/notice-routes.ts';
import { decideRoutes } from './decide/decide-routes.ts';
import { scoreRoutes } from './decide/score-routes.ts';
import { eventRoutes } from './events/events-routes.ts';
import { isAdminHost } from './experiments/admin-host.ts';
import { experimentAdminRoutes } from './experiments/admin-routes.ts';
import { experimentPageRoutes } from './experiments/page-routes.ts';
import { queueRoutes } from './log/queue-routes.ts';
import { adminModelRoutes } from './models/admin-routes.ts';
import { openApiRoutes } from './openapi/openapi-routes.ts';
import { proxyRequest } from './proxy/proxy.ts';
import { recommendRoutes } from './recommend/recommend-routes.ts';
import { errorBody, HttpError } from './shared/http-error.ts';
import { settings, type Settings } from './shared/settings.ts';
import type { AppEnv } from './shared/types.ts';
import { snippetRoutes } from './snippet/snippet-routes.ts';
import { resolveSite } from './sites/site-middleware.ts';
import { siteRoutes } from './sites/sites-routes.ts';
import { log } from './shared/log.ts';

export const app = new Hono<AppEnv>();

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
      origin: s.allowedOrigins === '*' ? '*' : [...s.allowedOrigins],
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      allowHeaders: ['content-type'],
      exposeHeaders: ['x-attune-fallback', 'retry-after'], // retry-after: a 429 from /v1/events
      maxAge: 86400,
    });
    corsOf.set(s, handler);
  }
  return handler(c, next);
});

app.route('/', decideRoutes);
app.route('/', scoreRoutes);
app.route('/', recommendRoutes);
app.route('/', eventRoutes);
app.route('/', adminModelRoutes);
app.route('/', bidRoutes);
app.route('/', noticeRoutes);
app.route('/', clickRoutes);
app.route('/', adminCampaignRoutes);
app.route('/', bidAdjustRoutes);
app.route('/', experimentAdminRoutes);
app.route('/', experimentPageRoutes);
app.route('/', openApiRoutes);
app.route('/', snippetRoutes);
app.route('/', siteRoutes);

app.get('/healthz', (c) => c.json({ ok: true }));
// `npm start` only (log/queue-routes.ts): what its graceful stop waits for
app.route('/', queueRoutes);

// Proxy mode: whatever the API does not answer goes to the origin (ORIGIN_URL), personalized
// where page rules say so. Hooked here so it stays last however many routes are added. Never on
// the admin page's hosts (ADMIN_HOST): no site page may share the admin's origin.
app.notFound(
  async (c) =>
    (isAdminHost(c.env, new URL(c.req.url).hostname) ? null : await proxyRequest(c)) ??
    c.json(errorBody('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404),
);

app.onError((err, c) => {
  if (err instanceof HttpError) return c.json(errorBody(err.code, err.message, err.field), err.status);
  // Anything else is our bug: log it whole, answer without internals.
  log.error('unhandled error', { path: new URL(c.req.url).pathname, error: String(err), stack: (err as Error).stack });
  return c.json(errorBody('internal_error', 'unexpected error; it has been logged'), 500);
});
