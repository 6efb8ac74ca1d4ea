/**
 * Model sources: the readable JSON in `models/` (hand-set defaults, or a trainer's output
 * before quantization) compiled into envelope blobs. Feature keys are hashed with the same
 * core functions the extractor uses, so `device=mobile` in a source is exactly the feature a
 * mobile visitor produces at the edge.
 */
import { z } from 'zod';
import { hashFeatureKey } from '../core/feature-keys.ts';
import { encodeLinearModel } from '../core/linear-model.ts';
import { murmur3Bytes } from '../core/murmur3.ts';
import { parseTrainingWindow } from '../core/training-window.ts';
import { compileItemKnnSource, ItemKnnSource } from './recs/source.ts';

const Policy = z.discriminatedUnion('type', [
  z.object({ type: z.literal('greedy'), epsilon: z.number().min(0).max(1) }),
  z.object({ type: z.literal('softmax'), temperature: z.number().min(1e-200), floor: z.number().min(0).max(1) }),
  z.object({ type: z.literal('thompson'), floor: z.number().min(0).max(1) }),
]);

export const LinearSource = z.object({
  $comment: z.string().optional(),
  kind: z.literal('linear'),
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/),
  version: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/)
    .optional(),
  variants: z.array(z.string().min(1).max(128)).min(1).max(64),
  bits: z.number().int().min(4).max(24),
  policy: Policy.optional(),
  target: z.string().optional(),
  /** the decisions the weights were learned from (ISO 8601, from inclusive, to exclusive) */
  trainingWindow: z.object({ from: z.iso.datetime(), to: z.iso.datetime() }).optional(),
  quantize: z.enum(['int8', 'float32']).optional(),
  bias: z.record(z.string(), z.number()),
  sigma: z.record(z.string(), z.number().nonnegative()).optional(),
  weights: z.record(z.string(), z.record(z.string(), z.number())),
});
export type LinearSource = z.infer<typeof LinearSource>;

export interface Compiled {
  readonly name: string;
  readonly version: string;
  readonly blob: Uint8Array;
}

const PLACEHOLDER_VERSION = 'h00000000';

/**
 * Compiles with a version derived from the compiled bytes, so an unchanged source republishes as
 * a no-op and a compiler whose output changed publishes a new version instead of colliding with
 * the old one. The placeholder has the final version's length, so only the version differs.
 */
export function contentVersioned(compile: (version: string) => Compiled[]): Compiled[] {
  let h = 0x5eed;
  for (const c of compile(PLACEHOLDER_VERSION)) h = murmur3Bytes(c.blob, h);
  return compile(`h${h.toString(16).padStart(8, '0')}`);
}

export function compileLinear(source: LinearSource): Compiled {
  if (source.version === undefined) return contentVersioned((version) => [compileLinear({ ...source, version })])[0]!;
  const k = source.variants.length;
  const index = new Map(source.variants.map((v, i) => [v, i]));
  const col = (variant: string, where: string): number => {
    const i = index.get(variant);
    if (i === undefined) throw new Error(`${source.name}: ${where} names unknown variant "${variant}"`);
    return i;
  };
  const weights = new Float32Array((1 << source.bits) * k);
  const mask = (1 << source.bits) - 1;
  for (const [key, perVariant] of Object.entries(source.weights)) {
    const hash = hashFeatureKey(key);
    if (hash === null) throw new Error(`${source.name}: "${key}" is not a feature of this extractor`);
    const row = (hash & mask) * k;
    for (const [variant, w] of Object.entries(perVariant)) weights[row + col(variant, `weights["${key}"]`)]! += w;
  }
  const bias = new Float64Array(k);
  for (const [variant, b] of Object.entries(source.bias)) bias[col(variant, 'bias')] = b;
  let sigma: Float64Array | undefined;
  if (source.sigma) {
    sigma = new Float64Array(k).fill(1);
    for (const [variant, s] of Object.entries(source.sigma)) sigma[col(variant, 'sigma')] = s;
  }
  const version = source.version;
  const blob = encodeLinearModel({
    name: source.name,
    version,
    variants: source.variants,
    bits: source.bits,
    bias,
    weights,
    sigma,
    policy: source.policy,
    target: source.target,
    trainingWindow: parseTrainingWindow(source.trainingWindow),
    quantize: source.quantize,
  });
  return { name: source.name, version, blob };
}

export function compileSource(raw: unknown, file: string): Compiled {
  const parsed = LinearSource.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return compileLinear(parsed.data);
}

/** Every blob a source file compiles to: one for most kinds, a model and its companion for itemknn. */
export function compileSources(raw: unknown, file: string): Compiled[] {
  if ((raw as { kind?: unknown } | null)?.kind !== 'itemknn') return [compileSource(raw, file)];
  const parsed = ItemKnnSource.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const source = parsed.data;
  return source.version === undefined
    ? contentVersioned((version) => compileItemKnnSource(source, version))
    : compileItemKnnSource(source, source.version);
}
