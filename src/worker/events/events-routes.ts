/**
 * POST /v1/events: outcome events in batches (JSON, `navigator.sendBeacon` text/plain bodies,
 * Segment calls). Each event is validated on its own; the valid ones are queued for the log
 * and the answer lists every rejected one as `{ index, field, reason }`.
 *
 * The response is sent only after the queue accepted the events: a 200 means they are on the
 * log's way (the queue and its consumer retry from there), a 503 means nothing was queued and
 * the client should resend; resending is safe for events that carry an `id` (or a `ts`).
 *
 * Each client address may send EVENTS_LIMITER's number of units per period (wrangler.toml), a
 * request counting one per 50 events; past it the answer is 429 with Retry-After
 * (event-rate-limit.ts).
 */
import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { parseJson, readBodyText } from '../shared/body.ts';
import { sendToLog } from '../log/log-producer.ts';
import { intakeEvents, entriesOf } from './event-intake.ts';
import { extraUnits, RETRY_AFTER_SECONDS, withinEventRate } from './event-rate-limit.ts';
import { EVENT_LIMITS } from './event-schema.ts';
import { errorBody, HttpError } from '../shared/http-error.ts';
import { geoOf } from '../visitor/request-context.ts';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { VISITOR_COOKIE } from '../visitor/visitor.ts';
import { log } from '../shared/log.ts';

const VISITOR_ID = /^[A-Za-z0-9_-]{8,64}$/;

const throttled = (c: AppContext) =>
  c.json(errorBody('rate_limited', `too many events from this address (EVENTS_LIMITER); retry after ${RETRY_AFTER_SECONDS} s`), 429, {
    'retry-after': String(RETRY_AFTER_SECONDS),
  });

export const eventRoutes = new Hono<AppEnv>().post('/v1/events', async (c) => {
  const address = c.req.header('cf-connecting-ip');
  if (!(await withinEventRate(c.env.EVENTS_LIMITER, address))) return throttled(c);
  const text = await readBodyText(c.req.raw, EVENT_LIMITS.bodyBytes);
  const entries = entriesOf(parseJson(text));
  if (!(await withinEventRate(c.env.EVENTS_LIMITER, address, extraUnits(entries.length)))) return throttled(c);
  // A beacon from the page carries the first-party visitor cookie; events without a
  // visitorId of their own are attributed to it.
  const cookie = getCookie(c, VISITOR_COOKIE);
  const now = Date.now();
  const country = geoOf(c.req.raw).country;
  const { accepted, rejected, duplicates } = intakeEvents(
    entries,
    cookie && VISITOR_ID.test(cookie) ? cookie : undefined,
    now,
    text.length,
    country,
  );
  if (accepted.length === 0) {
    const first = rejected[0]!;
    return c.json(
      {
        accepted: 0,
        rejected,
        duplicates,
        ...errorBody(
          'invalid_request',
          `no valid events; event ${first.index}: ${first.field}: ${first.reason}`,
          `[${first.index}].${first.field}`,
        ),
      },
      400,
    );
  }
  // Kept alive past a client that hangs up: the send also carries decision records (log-producer.ts).
  const queued = sendToLog(c.env.EVENTS, accepted);
  c.executionCtx.waitUntil(queued.catch(() => {}));
  try {
    await queued;
  } catch (err) {
    log.error('events not queued', { ids: accepted.map((e) => e.id), error: String(err) });
    throw new HttpError(
      503,
      'queue_unavailable',
      'events could not be queued; resend the batch (events with an id or ts are deduplicated)',
    );
  }
  return c.json({ accepted: accepted.length, rejected, duplicates, ids: accepted.map((e) => e.id) });
});
