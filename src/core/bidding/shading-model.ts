/**
 * Win curves in KV (model kind `shading`, feature-free: featureSpecHash 0). One curve per key:
 * `pub:<publisher id>` for publishers with enough feedback, `*` for everything else.
 *
 * Sections: `CRVA f32[n]` (a per key) · `CRVK f32[n]` (k per key). Meta: `{ keys: string[] }`.
 */
import { encodeEnvelope, type Envelope } from '../model-format.ts';
import type { WinCurve } from './win-curve.ts';

/** The model the bidder shades first-price bids with, and the one `fit-shading` publishes. */
export const SHADING_MODEL = 'bid-shading';

export interface ShadingModel {
  readonly kind: 'shading';
  readonly name: string;
  readonly version: string;
  readonly curves: ReadonlyMap<string, WinCurve>;
}

export function encodeShadingModel(name: string, version: string, curves: ReadonlyMap<string, WinCurve>): Uint8Array {
  const keys = [...curves.keys()];
  return encodeEnvelope({
    kind: 'shading',
    name,
    version,
    featureSpecHash: 0,
    meta: { keys },
    sections: [
      ['CRVA', Float32Array.from(keys, (k) => curves.get(k)!.a)],
      ['CRVK', Float32Array.from(keys, (k) => curves.get(k)!.k)],
    ],
  });
}

export function shadingFromEnvelope(env: Envelope): { ok: true; model: ShadingModel } | { ok: false; reason: 'wrongKind' | 'malformed' } {
  if (env.kind !== 'shading') return { ok: false, reason: 'wrongKind' };
  const keys = (env.meta as { keys?: unknown }).keys;
  const a = env.sections.get('CRVA');
  const k = env.sections.get('CRVK');
  if (!Array.isArray(keys) || !keys.every((x) => typeof x === 'string')) return { ok: false, reason: 'malformed' };
  if (!(a instanceof Float32Array) || !(k instanceof Float32Array) || a.length !== keys.length || k.length !== keys.length) {
    return { ok: false, reason: 'malformed' };
  }
  const curves = new Map<string, WinCurve>();
  for (let i = 0; i < keys.length; i++) {
    if (!Number.isFinite(a[i]!) || !(k[i]! > 0)) return { ok: false, reason: 'malformed' };
    curves.set(keys[i] as string, { a: a[i]!, k: k[i]! });
  }
  return { ok: true, model: { kind: 'shading', name: env.name, version: env.version, curves } };
}

/** The publisher's own curve when it has one, else the default `*` curve, else null. */
export function curveFor(m: ShadingModel | null, publisher: string): WinCurve | null {
  if (m === null) return null;
  return (publisher ? m.curves.get(`pub:${publisher}`) : undefined) ?? m.curves.get('*') ?? null;
}
