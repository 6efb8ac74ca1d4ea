/**
 * The per-client rate limit of `POST /v1/events`, on the Workers Rate Limiting binding
 * `EVENTS_LIMITER` (wrangler.toml: 5,000 units per 10 s, counted per Cloudflare location); who
 * the client is and who is not counted: shared/client-rate.ts.
 *
 * A request counts one unit per EVENTS_PER_UNIT events it holds, begun: a beacon (the snippet
 * sends at most 50 events at once) is one unit, as every request was before, and a batch of 500
 * is ten. So the limit bounds the events an address can put on the queue, not only its requests:
 * by request count alone, 500-event batches let one address send 250,000 events a second. The
 * first unit is taken before the body is read (a flood is refused without reading it), the
 * rest once the events are counted.
 */
import { withinRate } from '../shared/client-rate.ts';

export { clientKey } from '../shared/client-rate.ts';

/** The period of EVENTS_LIMITER in wrangler.toml: after it, a throttled client is counted anew. */
export const RETRY_AFTER_SECONDS = 10;

/** Events one unit of the limit covers: the snippet's largest beacon. */
export const EVENTS_PER_UNIT = 50;

/** Units a request of `events` events counts beyond its first. */
export const extraUnits = (events: number): number => Math.max(0, Math.ceil(events / EVENTS_PER_UNIT) - 1);

/** Whether this client may go on with `units` more units (see above). */
export function withinEventRate(limiter: RateLimit | undefined, address: string | undefined, units = 1): Promise<boolean> {
  return withinRate(limiter, 'EVENTS_LIMITER', address, units);
}
