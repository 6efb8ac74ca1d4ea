/**
 * Hashed logistic regression, one weight vector per variant (kind `linear`).
 *
 * Weights live in a table of 2^bits rows × K variants, row-major by feature, so one feature
 * touches K adjacent weights (one cache line for K ≤ 64 int8 weights) and a whole decision is
 * one pass over ~30 rows. Weights are int8 with one float scale per variant (error at most
 * scale/2 per weight) or float32 when quantization would cost quality.
 *
 * Sections:  BIAS f32[K]  ·  SCAL f32[K]  ·  WGHT i8|f32[2^bits · K]  ·  SIGM f32[K] (optional:
 * per-variant score uncertainty, used by the Thompson-style policy).
 * Meta: `{ variants: string[], bits: number, policy: PolicySpec, target?: string,
 * trainingWindow?: { from, to } }` (training-window.ts).
 */

import { FEATURE_SPEC_HASH, type FeatureVector } from './features.ts';
import { encodeEnvelope, type Envelope } from './model-format.ts';
import { DEFAULT_POLICY, parsePolicySpec, type PolicySpec } from './policy.ts';
import { parseTrainingWindow, type TrainingWindow, trainingWindowMeta } from './training-window.ts';

export const MAX_VARIANTS = 64;
export const MAX_BITS = 24;

export interface LinearModel {
  readonly kind: 'linear';
  readonly name: string;
  readonly version: string;
  readonly variants: readonly string[];
  readonly variantIndex: ReadonlyMap<string, number>;
  readonly bits: number;
  readonly mask: number;
  readonly bias: Float32Array;
  readonly scale: Float32Array;
  readonly weights: Int8Array | Float32Array;
  readonly sigma: Float32Array | null;
  readonly policy: PolicySpec;
  readonly target: string;
  /** the decisions it learned from, when the trainer recorded them (a malformed record reads as none) */
  readonly trainingWindow?: TrainingWindow | null;
  readonly byteLength: number;
}

export type LinearFailure = 'wrongKind' | 'malformed';

/** Builds a model view over a decoded envelope (no copies). */
export function linearFromEnvelope(env: Envelope): { ok: true; model: LinearModel } | { ok: false; reason: LinearFailure } {
  if (env.kind !== 'linear') return { ok: false, reason: 'wrongKind' };
  const { variants, bits, policy, target, trainingWindow } = env.meta as {
    variants?: unknown;
    bits?: unknown;
    policy?: unknown;
    target?: unknown;
    trainingWindow?: unknown;
  };
  if (!Array.isArray(variants) || variants.length === 0 || variants.length > MAX_VARIANTS) return { ok: false, reason: 'malformed' };
  if (!variants.every((v) => typeof v === 'string')) return { ok: false, reason: 'malformed' };
  if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < 1 || bits > MAX_BITS) return { ok: false, reason: 'malformed' };
  const k = variants.length;
  const bias = env.sections.get('BIAS');
  const scale = env.sections.get('SCAL');
  const weights = env.sections.get('WGHT');
  const sigma = env.sections.get('SIGM') ?? null;
  if (!(bias instanceof Float32Array) || bias.length !== k) return { ok: false, reason: 'malformed' };
  if (!(scale instanceof Float32Array) || scale.length !== k) return { ok: false, reason: 'malformed' };
  if (!(weights instanceof Int8Array || weights instanceof Float32Array) || weights.length !== (1 << bits) * k) {
    return { ok: false, reason: 'malformed' };
  }
  if (sigma !== null && (!(sigma instanceof Float32Array) || sigma.length !== k)) return { ok: false, reason: 'malformed' };
  // Non-finite numbers would reach answers as null propensities and scores, and profiles.
  if (!allFinite(bias) || !allFinite(scale) || (sigma !== null && !allFinite(sigma))) return { ok: false, reason: 'malformed' };
  if (weights instanceof Float32Array && !allFinite(weights)) return { ok: false, reason: 'malformed' }; // int8 always is
  const parsedPolicy = policy === undefined ? DEFAULT_POLICY : parsePolicySpec(policy);
  if (parsedPolicy === null) return { ok: false, reason: 'malformed' };
  return {
    ok: true,
    model: {
      kind: 'linear',
      name: env.name,
      version: env.version,
      variants: variants as string[],
      variantIndex: new Map((variants as string[]).map((v, i) => [v, i])),
      bits,
      mask: (1 << bits) - 1,
      bias,
      scale,
      weights,
      sigma,
      policy: parsedPolicy,
      target: typeof target === 'string' ? target : 'click',
      trainingWindow: parseTrainingWindow(trainingWindow),
      byteLength: env.byteLength,
    },
  };
}

function allFinite(xs: Float32Array): boolean {
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i]!)) return false;
  return true;
}

/**
 * Writes each variant's logit into `out[0..K)`: the rows' raw sums (`addRows`, the hot loop),
 * then bias and the per-variant scale, applied once at the end rather than per weight.
 */
export function scoreVariants(model: LinearModel, fv: FeatureVector, out: Float64Array): void {
  const k = model.variants.length;
  for (let v = 0; v < k; v++) out[v] = 0;
  addRows(model, fv, 0, out);
  finishScores(model, out, out);
}

/**
 * Adds the weight rows of features `fv[from..length)` to the raw sums `acc[0..K)`, in feature
 * order: per feature one masked index, then K multiply-adds over adjacent weights. Sums are
 * exact prefixes: scoring features [0, n) and then adding [n, m) gives the same numbers as
 * scoring [0, m) at once, which lets a caller score a shared prefix once (the bidder's request
 * features) and only the suffix per case (each imp's own attrs).
 */
export function addRows(model: LinearModel, fv: FeatureVector, from: number, acc: Float64Array): void {
  const k = model.variants.length;
  if (k <= 4) {
    addRows4(model, fv, from, acc);
    return;
  }
  const w = model.weights;
  const mask = model.mask;
  const hashes = fv.hashes;
  const values = fv.values;
  for (let j = from; j < fv.length; j++) {
    const row = (hashes[j]! & mask) * k;
    const x = values[j]!;
    for (let v = 0; v < k; v++) acc[v] = acc[v]! + w[row + v]! * x;
  }
}

/**
 * `addRows` for up to four variants (most models), with the sums in locals instead of the
 * array: the same additions in the same order, so the same numbers, without a store and a load
 * per weight.
 */
function addRows4(model: LinearModel, fv: FeatureVector, from: number, acc: Float64Array): void {
  const k = model.variants.length;
  const w = model.weights;
  const mask = model.mask;
  const hashes = fv.hashes;
  const values = fv.values;
  let a0 = acc[0]!;
  let a1 = k > 1 ? acc[1]! : 0;
  let a2 = k > 2 ? acc[2]! : 0;
  let a3 = k > 3 ? acc[3]! : 0;
  for (let j = from; j < fv.length; j++) {
    const row = (hashes[j]! & mask) * k;
    const x = values[j]!;
    a0 += w[row]! * x;
    if (k > 1) a1 += w[row + 1]! * x;
    if (k > 2) a2 += w[row + 2]! * x;
    if (k > 3) a3 += w[row + 3]! * x;
  }
  acc[0] = a0;
  if (k > 1) acc[1] = a1;
  if (k > 2) acc[2] = a2;
  if (k > 3) acc[3] = a3;
}

/** Raw sums → logits: `out[v] = bias[v] + acc[v] · scale[v]` (`out` may be `acc`). */
export function finishScores(model: LinearModel, acc: Float64Array, out: Float64Array): void {
  const k = model.variants.length;
  for (let v = 0; v < k; v++) out[v] = model.bias[v]! + acc[v]! * model.scale[v]!;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export interface LinearModelInput {
  readonly name: string;
  readonly version: string;
  readonly variants: readonly string[];
  readonly bits: number;
  /** bias per variant */
  readonly bias: ArrayLike<number>;
  /** dense weights, row-major: weights[row * K + variant] */
  readonly weights: Float32Array;
  readonly sigma?: ArrayLike<number> | undefined;
  readonly policy?: PolicySpec | undefined;
  readonly target?: string | undefined;
  readonly trainingWindow?: TrainingWindow | null | undefined;
  readonly quantize?: 'int8' | 'float32' | undefined;
  readonly featureSpecHash?: number | undefined;
}

/** Quantizes (int8 + per-variant scale by default) and wraps in the envelope. */
export function encodeLinearModel(input: LinearModelInput): Uint8Array {
  const k = input.variants.length;
  const rows = 1 << input.bits;
  if (input.weights.length !== rows * k) throw new RangeError(`weights must have ${rows * k} entries`);
  const scale = new Float32Array(k).fill(1);
  let weights: Int8Array | Float32Array = input.weights;
  if ((input.quantize ?? 'int8') === 'int8') {
    const maxAbs = new Float64Array(k);
    for (let i = 0; i < input.weights.length; i++) {
      const v = i % k;
      maxAbs[v] = Math.max(maxAbs[v]!, Math.abs(input.weights[i]!));
    }
    for (let v = 0; v < k; v++) scale[v] = maxAbs[v]! > 0 ? maxAbs[v]! / 127 : 1;
    const q = new Int8Array(rows * k);
    for (let i = 0; i < q.length; i++) q[i] = Math.round(input.weights[i]! / scale[i % k]!);
    weights = q;
  }
  const sections: [string, Float32Array | Int8Array][] = [
    ['BIAS', Float32Array.from(input.bias)],
    ['SCAL', scale],
    ['WGHT', weights],
  ];
  if (input.sigma) sections.push(['SIGM', Float32Array.from(input.sigma)]);
  const window = trainingWindowMeta(input.trainingWindow);
  return encodeEnvelope({
    kind: 'linear',
    name: input.name,
    version: input.version,
    featureSpecHash: input.featureSpecHash ?? FEATURE_SPEC_HASH,
    meta: {
      variants: input.variants,
      bits: input.bits,
      policy: input.policy ?? DEFAULT_POLICY,
      target: input.target ?? 'click',
      // only when known, so blobs without one stay byte-identical (golden fixtures)
      ...(window ? { trainingWindow: window } : {}),
    },
    sections,
  });
}
