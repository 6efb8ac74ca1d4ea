/** The Hono app: routes, CORS for browser callers, and the one error boundary. */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { experimentAdminRoutes } from './experiments/admin-routes.ts';
import { experimentPageRoutes } from './experiments/page.ts';
import { errorBody, HttpError } from './http-error.ts';
import { adminCampaignRoutes } from './routes/admin-campaigns.ts';
import { adminModelRoutes } from './routes/admin-models.ts';
import { bidAdjustRoutes } from './routes/bid-adjust.ts';
import { decideRoutes } from './routes/decide.ts';
import { eventRoutes } from './routes/events.ts';
import { clickRoutes } from './routes/click.ts';
import { noticeRoutes } from './routes/notices.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { openRtbRoutes } from './routes/openrtb.ts';
import { recommendRoutes } from './routes/recommend.ts';
import { scoreRoutes } from './routes/score.ts';
import { snippetRoutes } from './routes/snippet.ts';
import { proxyRequest } from './proxy.ts';
import { queueStatsRoute } from './queue-stats.ts';
import type { AppEnv } from './types.ts';

export const app = new Hono<AppEnv>();

app.use('/v1/*', async (c, next) => {
  if (c.req.path === '/v1/bid-adjust') return next(); // server to server (bid-adjust.ts): no browser grant
  const allowed = (c.env.ALLOWED_ORIGINS ?? '*').split(',').map((s: string) => s.trim());
  return cors({
    origin: allowed.includes('*') ? '*' : allowed,
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['content-type'],
    exposeHeaders: ['x-attune-fallback', 'retry-after'], // retry-after: a 429 from /v1/events
    maxAge: 86400,
  })(c, next);
});

app.route('/', decideRoutes);
app.route('/', scoreRoutes);
app.route('/', recommendRoutes);
app.route('/', eventRoutes);
app.route('/', adminModelRoutes);
app.route('/', openRtbRoutes);
app.route('/', noticeRoutes);
app.route('/', clickRoutes);
app.route('/', adminCampaignRoutes);
app.route('/', bidAdjustRoutes);
app.route('/', experimentAdminRoutes);
app.route('/', experimentPageRoutes);
app.route('/', openApiRoutes);
app.route('/', snippetRoutes);

app.get('/healthz', (c) => c.json({ ok: true }));
// `npm start` only (queue-stats.ts): what its graceful stop waits for
app.get('/__attune/queue', queueStatsRoute);

// Proxy mode: whatever the API does not answer goes to the origin (ORIGIN_URL), personalized
// where page rules say so. Hooked here so it stays last however many routes are added.
app.notFound(
  async (c) =>
    (await proxyRequest(c)) ?? c.json(errorBody('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404),
);

app.onError((err, c) => {
  if (err instanceof HttpError) return c.json(errorBody(err.code, err.message, err.field), err.status);
  // Anything else is our bug: log it whole, answer without internals.
  console.error(
    JSON.stringify({ msg: 'unhandled error', path: new URL(c.req.url).pathname, error: String(err), stack: (err as Error).stack }),
  );
  return c.json(errorBody('internal_error', 'unexpected error; it has been logged'), 500);
});
