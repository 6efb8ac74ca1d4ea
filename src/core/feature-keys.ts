/**
 * Readable feature keys ⇄ the hashes the extractor produces. Model sources in `models/` are
 * written with keys such as `device=mobile`, `hour=9`, `visits=3` (a bucket's lower bound),
 * `segment=pricing-intent`, `attr:plan=pro` or the cross `device*page_type=mobile*pricing`;
 * `hashFeatureKey` turns each into the exact hash `extractFeatures` emits for it.
 */

import {
  DAYPARTS,
  FEATURE_CROSSES,
  FIELD_SEED,
  PURCHASE_BUCKETS,
  RECENCY_BUCKETS,
  VISIT_BUCKETS,
  attrHash,
  bucketOf,
  crossHash,
  type FeatureField,
} from './features.ts';
import { murmur3, murmur3Int } from './murmur3.ts';

const INT_FIELDS = new Set<FeatureField>(['asn', 'hour', 'weekday', 'returning']);

function fieldHash(field: string, value: string): number | null {
  if (!(field in FIELD_SEED) || field === 'attr') return null;
  const seed = FIELD_SEED[field as FeatureField];
  if (field === 'bias') return seed;
  if (INT_FIELDS.has(field as FeatureField)) {
    const n = Number(value);
    return Number.isInteger(n) ? murmur3Int(n, seed) : null;
  }
  if (field === 'daypart') {
    const i = (DAYPARTS as readonly string[]).indexOf(value);
    return i < 0 ? null : murmur3Int(i, seed);
  }
  const buckets =
    field === 'visits' ? VISIT_BUCKETS : field === 'recency' ? RECENCY_BUCKETS : field === 'purchases' ? PURCHASE_BUCKETS : null;
  if (buckets) {
    const n = Number(value);
    if (!Number.isFinite(n)) return null;
    return murmur3Int(field === 'recency' && n < 0 ? -1 : bucketOf(n, buckets), seed);
  }
  if (field === 'country') return murmur3(value.toUpperCase(), seed);
  return murmur3(value, seed);
}

/** Hash of a readable key, or null when the key names no feature of this spec. */
export function hashFeatureKey(key: string): number | null {
  if (key === 'bias') return FIELD_SEED.bias;
  if (key.startsWith('attr:')) {
    const eq = key.indexOf('=');
    if (eq < 0) return null;
    const raw = key.slice(eq + 1);
    const value = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    return attrHash(key.slice(5, eq), value);
  }
  const eq = key.indexOf('=');
  if (eq < 0) return null;
  const field = key.slice(0, eq);
  const value = key.slice(eq + 1);
  const star = field.indexOf('*');
  if (star < 0) return fieldHash(field, value);
  const a = field.slice(0, star);
  const b = field.slice(star + 1);
  const cross = FEATURE_CROSSES.findIndex(([x, y]) => x === a && y === b);
  const vstar = value.indexOf('*');
  if (cross < 0 || vstar < 0) return null;
  const ha = fieldHash(a, value.slice(0, vstar));
  const hb = fieldHash(b, value.slice(vstar + 1));
  return ha === null || hb === null ? null : crossHash(cross, ha, hb);
}
