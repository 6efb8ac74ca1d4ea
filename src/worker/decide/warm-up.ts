/**
 * Runs the decision path once while the isolate starts, so its first visitor does not pay for
 * compiling it. Cloudflare runs a Worker's module scope during start-up (overlapping the TLS
 * handshake); V8 compiles each function on its first call, and a regular expression on its
 * first match, so without this the first request runs the whole path cold.
 *
 * Pure work only (module scope may not do I/O): a tiny model, a context, its
 * features, a choice under each policy kind, a profile round trip, and the request schema.
 * Nothing is logged or stored; the memo caches it fills (user agent, referrer host, path) hold
 * the right answers for those keys.
 *
 * It moves work, it does not remove it: about 10–15 ms of a cold start here (Node, code cold),
 * most of which the first request would otherwise pay. That pays off because Cloudflare starts
 * isolates while the TLS handshake runs; docs/architecture.md has the numbers.
 */
import { buildContext } from '../../core/context.ts';
import { decideLinear } from '../../core/decide.ts';
import { createFeatureVector, extractFeatures } from '../../core/features.ts';
import type { LinearModel } from '../../core/linear-model.ts';
import type { PolicySpec } from '../../core/policy.ts';
import { parseProfile, serializeProfile } from '../../core/profile-codec.ts';
import { newProfile, touchProfile } from '../../core/profile.ts';
import { validate } from '../shared/body.ts';
import { DecideRequest } from './decide-schema.ts';

const NOW = Date.UTC(2026, 0, 1, 12); // module scope sees a frozen clock; any fixed time will do
const POLICIES: readonly PolicySpec[] = [
  { type: 'greedy', epsilon: 0.1 },
  { type: 'softmax', temperature: 1, floor: 0.05 },
  { type: 'thompson', floor: 0.05 },
];

/** Returns how many decisions it made (one per policy kind), for the test that it ran the path at all. */
export function warmDecisionPath(): number {
  const body = validate(DecideRequest, {
    visitorId: 'warm-up-visitor',
    page: { url: 'https://warm.example/products/1?utm_source=news&utm_medium=email', referrer: 'https://www.bing.com/' },
    attributes: { plan: 'pro', seats: 3, trial: false },
    slots: [
      { id: 'hero', model: 'warm' },
      { id: 'cta', candidates: ['a', 'b'] },
    ],
  });
  const profile = parseProfile(serializeProfile(touchProfile(newProfile(NOW - 86_400_000), NOW - 3_600_000, 'pricing')));
  // UTC: a named zone would load its ICU data, which only a request from that zone needs
  const ctx = buildContext({
    now: NOW,
    url: body.page?.url,
    referrer: body.page?.referrer,
    profile: profile ?? newProfile(NOW),
    attrs: body.attributes,
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
    geo: { country: 'de', region: 'BE', city: 'Berlin', asn: 3320, timezone: 'UTC' },
  });
  const fv = extractFeatures(ctx, createFeatureVector());
  // A model built in place (the encoder would add itself to the bundle only for this); decoding
  // is warmed by the checksum kernel's self-check and paid on the first model load.
  const model: LinearModel = {
    kind: 'linear',
    name: 'warm',
    version: 'v1',
    variants: ['a', 'b'],
    variantIndex: new Map([
      ['a', 0],
      ['b', 1],
    ]),
    bits: 4,
    mask: 15,
    bias: new Float32Array(2),
    scale: Float32Array.of(1, 1),
    weights: new Int8Array(32),
    sigma: Float32Array.of(0.1, 0.1),
    policy: POLICIES[0]!,
    target: 'click',
    byteLength: 0,
  };
  let decided = 0;
  for (const policy of POLICIES) if (decideLinear({ ...model, policy }, ['a', 'b'], fv, 0.5) !== null) decided++;
  return decided;
}
