/**
 * POST /v1/decide: one call per page covers all its slots. Per slot: the chosen variant, its
 * score and propensity, the model version, a decision id and where the answer came from.
 * A slot whose model or experiment cannot be used (unknown or deleted included) gets the safe
 * default and the response says so in `x-attune-fallback`; the page never breaks because a model
 * did. `"strict": true` makes an unknown name a 404 instead. The decision itself lives in
 * `decide-slots.ts`, shared with the HTML proxy.
 */
import { decideSlots, preloadSlotModels } from './decide-slots.ts';
import { parseJson, readBodyText, validate } from '../shared/body.ts';
import { apiRateLimit } from '../shared/client-rate.ts';
import { logRecords } from '../log/log-producer.ts';
import { REQUEST_LIMITS } from '../shared/request-schema.ts';
import { DecideRequest } from './decide-schema.ts';
import { fastDecideRequest } from './decide-body.ts';
import type { AppContext } from '../shared/types.ts';
import { storeOptions } from '../shared/settings.ts';
import { beginVisit, finishVisit, optedOut } from '../visitor/visit.ts';

/** POST /v1/decide: the per-client limit, then the decision; app.ts calls it in its own context (`lazyHandler`). */
export async function decide(c: AppContext): Promise<Response> {
  let decided: Response | undefined;
  const limited = await apiRateLimit(c, async () => {
    decided = await decideResponse(c);
  });
  return limited ?? decided!;
}

async function decideResponse(c: AppContext): Promise<Response> {
  const json = parseJson(await readBodyText(c.req.raw, REQUEST_LIMITS.bodyBytes));
  const body = fastDecideRequest(json) ?? validate(DecideRequest, json); // the same result, zod's errors (decide-body.ts)
  preloadSlotModels(c.env, body.slots, storeOptions(c, Date.now())); // a cold model's reads overlap the visit's
  const visit = await beginVisit(c, body, true);
  const { decisions, fallbacks, records } = await decideSlots(c, visit, body.slots, body.strict !== true);
  if (fallbacks.length > 0) c.header('x-attune-fallback', fallbacks.join(', '));
  // Global Privacy Control / Do Not Track, or a page without the visitor's consent (`track:
  // false`): decided from this request's context, as the proxy does, but nothing is logged and
  // no cookie is set (nothing to join it to, nothing kept).
  let profile: string | null = null;
  if (optedOut(c.req.raw) || body.track === false) c.header('cache-control', 'private, no-store');
  else {
    logRecords(c.env.EVENTS, records, (p) => c.executionCtx.waitUntil(p));
    profile = finishVisit(c, visit);
  }
  // a client that keeps its own profile (no cookies cross-origin) gets it back in the body
  const echo = body.profile !== undefined && profile !== null ? { profile } : {};
  return c.json({ visitorId: visit.visitor.id, segments: visit.ctx.segments, decisions, ...echo });
}
