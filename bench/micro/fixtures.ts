/** Shared inputs for the micro benchmarks: a realistic request and a 4-variant model. */
import { hashFeatureKey } from '../../src/core/feature-keys.ts';
import { encodeLinearModel } from '../../src/core/linear-model.ts';
import { decodeEnvelope } from '../../src/core/model-format.ts';
import { linearFromEnvelope, type LinearModel } from '../../src/core/linear-model.ts';
import { newProfile, touchProfile } from '../../src/core/profile.ts';
import type { ContextInput } from '../../src/core/context.ts';
import type { PolicySpec } from '../../src/core/policy.ts';

export const NOW = Date.UTC(2026, 10, 20, 19, 30);
export const VARIANTS = ['control', 'benefit', 'urgency', 'social'];

let profile = newProfile(NOW - 9 * 86_400_000);
for (let i = 0; i < 5; i++) profile = touchProfile(profile, NOW - (9 - 2 * i) * 86_400_000, i % 2 ? 'pricing' : 'product');

export const INPUT: ContextInput = {
  now: NOW,
  url: 'https://shop.example/pricing?utm_source=google&utm_medium=cpc&utm_campaign=winter-sale',
  referrer: 'https://www.google.com/',
  userAgent:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  geo: { country: 'DE', region: 'BE', city: 'Berlin', asn: 3320, timezone: 'Europe/Berlin' },
  profile,
  attrs: { plan: 'pro', seats: 12, trial: false },
};

/** A model with weights on the features this input produces, so the choice is not trivial. */
export function benchModel(
  bits = 16,
  version = 'bench',
  policy: PolicySpec = { type: 'thompson', floor: 0.1 },
): { blob: Uint8Array; model: LinearModel } {
  const k = VARIANTS.length;
  const weights = new Float32Array((1 << bits) * k);
  let seed = 7;
  for (let i = 0; i < weights.length; i += 97) weights[i] = ((seed = (Math.imul(seed, 48271) >>> 0) % 2147483647) / 2147483647 - 0.5) * 0.2;
  const mask = (1 << bits) - 1;
  for (const [key, v, w] of [
    ['device=mobile', 2, 0.4],
    ['referrer=paid', 1, 0.5],
    ['page_type=pricing', 3, 0.3],
    ['attr:plan=pro', 3, 0.2],
  ] as const) {
    weights[(hashFeatureKey(key)! & mask) * k + v]! += w;
  }
  const blob = encodeLinearModel({
    name: 'hero',
    version,
    variants: VARIANTS,
    bits,
    bias: [-3, -3, -3.1, -3.05],
    weights,
    sigma: [0.2, 0.2, 0.2, 0.2],
    policy,
  });
  const env = decodeEnvelope(blob.slice().buffer);
  if (!env.ok) throw new Error(env.reason);
  const m = linearFromEnvelope(env.envelope);
  if (!m.ok) throw new Error(m.reason);
  return { blob, model: m.model };
}
