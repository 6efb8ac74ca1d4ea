/**
 * Segment spec calls → our native events, so instrumentation that already speaks Segment
 * (analytics.js, server libraries, a Segment webhook destination) can point at /v1/events.
 *
 * Mapping (spec event names from Segment's e-commerce spec):
 *   track "Product Clicked" | "Promotion Clicked"         → click
 *   track "Promotion Viewed" | "Product List Viewed"      → impression
 *   track "Product Added"                                  → add_to_cart
 *   track "Order Completed"                                → purchase (revenue|total|value, currency, products)
 *   track anything else                                    → goal, goal = the event name
 *   page                                                   → page (name, path, url in props)
 *   identify                                               → goal "identify"; props.user = hash of userId (traits are not kept: PII)
 * Properties `decisionId` (or `decision_id`), `slot`, `variant`, `experiment`, `visitorId` carry our
 * fields; other scalar properties go to `props` (first 32). `messageId` is the event id (a call
 * with neither it nor `timestamp` is a new event each time it is sent: event-intake.ts).
 */
import { EXPERIMENT_KEY } from '../../core/experiments/experiment.ts';
import { hashVisitor } from '../../core/decision-record.ts';
import { EVENT_LIMITS, type NativeEvent, type SegmentIdentify, type SegmentPage, type SegmentTrack } from './event-schema.ts';

const TRACK_NAMES: Readonly<Record<string, NativeEvent['name']>> = {
  'Product Clicked': 'click',
  'Promotion Clicked': 'click',
  'Promotion Viewed': 'impression',
  'Product List Viewed': 'impression',
  'Product Added': 'add_to_cart',
  'Order Completed': 'purchase',
};
const OURS = new Set([
  'decisionId',
  'decision_id',
  'slot',
  'variant',
  'experiment',
  'visitorId',
  'revenue',
  'total',
  'value',
  'currency',
  'products',
]);

type Props = Record<string, string | number | boolean>;

const str = (v: unknown, max = 128): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v.slice(0, max) : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v)
    ? v
    : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))
      ? Number(v)
      : undefined;

function scalarProps(p: Record<string, unknown>, into: Props): Props {
  for (const [k, v] of Object.entries(p)) {
    if (Object.keys(into).length >= EVENT_LIMITS.props) break;
    // `__proto__` cannot be carried in a plain object: dropped, like anything else loose mapping cannot keep
    if (OURS.has(k) || k.length === 0 || k.length > 64 || k === '__proto__') continue;
    if (typeof v === 'string') into[k] = v.slice(0, 512);
    else if (typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) into[k] = v;
  }
  return into;
}

function common(msg: SegmentTrack | SegmentPage | SegmentIdentify): Partial<NativeEvent> {
  const p = msg.properties ?? {};
  const out: { -readonly [K in keyof NativeEvent]?: NativeEvent[K] } = {};
  const set = <K extends keyof NativeEvent>(k: K, v: NativeEvent[K] | undefined) => {
    if (v !== undefined) out[k] = v;
  };
  set('id', msg.messageId);
  set('ts', msg.timestamp ? Date.parse(msg.timestamp) : undefined);
  set('visitorId', str(p.visitorId) ?? msg.visitorId ?? str(msg.anonymousId) ?? str(msg.userId));
  set('decisionId', str(p.decisionId) ?? str(p.decision_id));
  set('slot', str(p.slot, 64));
  set('variant', str(p.variant));
  // only a key of ours: other tools' experiment labels are not bandit tests here
  const experiment = str(p.experiment);
  set('experiment', experiment !== undefined && EXPERIMENT_KEY.test(experiment) ? experiment : undefined);
  return out;
}

function items(products: unknown): NativeEvent['items'] {
  if (!Array.isArray(products)) return undefined;
  const out: { id: string; price?: number; quantity?: number }[] = [];
  for (const p of products.slice(0, EVENT_LIMITS.items)) {
    if (typeof p !== 'object' || p === null) continue;
    const r = p as Record<string, unknown>;
    const id = str(r.product_id) ?? str(r.sku) ?? str(r.id);
    if (!id) continue;
    const price = num(r.price);
    const quantity = num(r.quantity);
    // mapped loosely: a price or quantity the native rules refuse is dropped, not the event
    const q = quantity === undefined ? undefined : Math.round(quantity);
    out.push({
      id,
      ...(price !== undefined && price >= 0 ? { price } : {}),
      ...(q !== undefined && q >= 0 && Number.isSafeInteger(q) ? { quantity: q } : {}),
    });
  }
  return out;
}

export function fromSegmentTrack(msg: SegmentTrack): NativeEvent {
  const p = msg.properties ?? {};
  const name = TRACK_NAMES[msg.event] ?? 'goal';
  const value = num(p.revenue) ?? num(p.total) ?? num(p.value);
  const currency = typeof p.currency === 'string' ? p.currency.toUpperCase() : undefined;
  const props = scalarProps(p, {});
  return {
    ...common(msg),
    name,
    ...(name === 'goal' ? { goal: msg.event.slice(0, 128) } : {}),
    ...(value !== undefined ? { value } : {}),
    ...(currency && /^[A-Z]{3}$/.test(currency) ? { currency } : {}),
    ...(name === 'purchase' && items(p.products)?.length ? { items: items(p.products) } : {}),
    ...(Object.keys(props).length ? { props } : {}),
  };
}

export function fromSegmentPage(msg: SegmentPage): NativeEvent {
  const props = scalarProps(msg.properties ?? {}, msg.name ? { name: msg.name.slice(0, 512) } : {});
  return { ...common(msg), name: 'page', ...(Object.keys(props).length ? { props } : {}) };
}

export function fromSegmentIdentify(msg: SegmentIdentify): NativeEvent {
  const user = str(msg.userId);
  return {
    ...common(msg),
    name: 'goal',
    goal: 'identify',
    // the visitor is the anonymous id; the user id is kept only as a hash, like every visitor id
    ...(msg.anonymousId !== undefined ? { visitorId: String(msg.anonymousId) } : {}),
    ...(user ? { props: { user: hashVisitor(user) } } : {}),
  };
}
