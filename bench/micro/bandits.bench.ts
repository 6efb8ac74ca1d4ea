/**
 * Cost of the bandit paths in the pure core (Node, mitata), warm:
 * - per request: drawing an arm from a snapshot allocation; the contextual allocation for one
 *   visitor (linear Thompson, 4 arms, the shared extractor's features), against the linear
 *   model's greedy decision as the baseline on the same features;
 * - per snapshot (in the Durable Object, every few seconds): Thompson's Monte Carlo allocation
 *   and the results read-out.
 *
 *   node bench/micro/bandits.bench.ts
 */
import { bench, group, run, do_not_optimize } from 'mitata';
import { allocate } from '../../src/core/bandits/allocation.ts';
import { linearThompsonProbabilities, newLinearThompson, updateLinearThompson } from '../../src/core/bandits/linear-thompson.ts';
import { computeResults } from '../../src/core/bandits/results.ts';
import { chooseArm } from '../../src/core/bandits/types.ts';
import { buildContext } from '../../src/core/context.ts';
import { decideLinear } from '../../src/core/decide.ts';
import { createFeatureVector, extractFeatures } from '../../src/core/features.ts';
import { encodeLinearModel, linearFromEnvelope } from '../../src/core/linear-model.ts';
import { decodeEnvelope } from '../../src/core/model-format.ts';
import { newProfile } from '../../src/core/profile.ts';

const now = Date.UTC(2026, 10, 23, 12);
const ctx = buildContext({
  now,
  url: 'https://shop.example/pricing?utm_source=google',
  profile: newProfile(now),
  geo: { country: 'DE', city: 'Berlin' },
  userAgent:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
});
const fv = extractFeatures(ctx, createFeatureVector());

const K = 4;
const lt = newLinearThompson(K, 12);
for (let i = 0; i < 2000; i++) updateLinearThompson(lt, i % K, fv, i % 7 === 0 ? 1 : 0);
const probs = new Float64Array(K);

const blob = encodeLinearModel({
  name: 'm',
  version: '1',
  variants: ['a', 'b', 'c', 'd'],
  bits: 12,
  weights: new Float32Array((1 << 12) * K).map((_, i) => ((i * 7919) % 13) / 100 - 0.06),
  bias: [0, 0.1, -0.1, 0.05],
  policy: { type: 'greedy', epsilon: 0.05 },
});
const decoded = decodeEnvelope(blob.buffer as ArrayBuffer);
if (!decoded.ok) throw new Error('linear model');
const linear = linearFromEnvelope(decoded.envelope);
if (!linear.ok) throw new Error('linear model');

const counts = { impressions: Float64Array.from([5000, 5100, 4900, 5050]), conversions: Float64Array.from([200, 230, 190, 260]) };
const alloc = new Float64Array(K);

// Correctness before timing.
linearThompsonProbabilities(lt, fv, 0.01, probs);
if (Math.abs(probs.reduce((a, x) => a + x, 0) - 1) > 1e-9) throw new Error('contextual allocation is not a distribution');
allocate({ name: 'thompson', floor: 0.01 }, counts, 1, alloc);
if (Math.abs(alloc.reduce((a, x) => a + x, 0) - 1) > 1e-9 || chooseArm(alloc, 0.5).propensity <= 0) throw new Error('thompson allocation');

let u = 0;
group('per request', () => {
  bench('linear model decision (baseline, greedy)', () => do_not_optimize(decideLinear(linear.model, null, fv, (u = (u + 0.37) % 1))));
  bench('experiment: draw from snapshot allocation', () => do_not_optimize(chooseArm(alloc, (u = (u + 0.37) % 1))));
  bench('experiment: linear Thompson allocation + draw', () => {
    linearThompsonProbabilities(lt, fv, 0.01, probs);
    return do_not_optimize(chooseArm(probs, (u = (u + 0.37) % 1)));
  });
});
group('per snapshot (Durable Object)', () => {
  bench('thompson allocation, 4 arms, 2000 draws', () => allocate({ name: 'thompson', floor: 0.01 }, counts, 1, alloc));
  bench('results read-out, 4 arms, 4000 draws', () => do_not_optimize(computeResults(['a', 'b', 'c', 'd'], counts, 0)));
});

console.log('# reproduce: node bench/micro/bandits.bench.ts');
await run();
