/**
 * A bandit's posterior snapshot in the model envelope (kind `bandit`). The experiment's Durable
 * Object publishes one every few seconds; the Worker reads it like any other model.
 *
 * Sections: `IMPR` f64 impressions per arm, `CONV` f64 conversions per arm, `ALLO` f64 the
 * allocation the algorithm computed from them (floor applied). Contextual snapshots add `MEAN`
 * and `PREC` (f32, arm-major, 2^bits per arm) and carry the extractor's feature-spec hash;
 * count-only snapshots carry 0 (feature-free). Meta: arms, algorithm, floor, epoch, bits.
 */

import { FEATURE_SPEC_HASH } from '../features.ts';
import { encodeEnvelope, type Envelope } from '../model-format.ts';
import type { LinearThompsonModel } from './linear-thompson.ts';
import { ALGORITHMS, type AlgorithmName, type ArmCounts } from './types.ts';

export interface BanditSnapshot {
  readonly name: string;
  readonly version: string;
  readonly arms: readonly string[];
  readonly algorithm: AlgorithmName;
  readonly floor: number;
  /** bumped when the test re-randomizes: sticky assignments from another epoch are void */
  readonly epoch: number;
  readonly publishedAt: number;
  readonly counts: ArmCounts;
  readonly allocation: Float64Array;
  readonly model: LinearThompsonModel | null;
}

export function encodeSnapshot(s: BanditSnapshot): Uint8Array {
  const sections: [string, Float64Array | Float32Array][] = [
    ['IMPR', s.counts.impressions],
    ['CONV', s.counts.conversions],
    ['ALLO', s.allocation],
  ];
  if (s.model) sections.push(['MEAN', s.model.mean], ['PREC', s.model.precision]);
  return encodeEnvelope({
    kind: 'bandit',
    name: s.name,
    version: s.version,
    featureSpecHash: s.model ? FEATURE_SPEC_HASH : 0,
    meta: {
      arms: s.arms,
      algorithm: s.algorithm,
      floor: s.floor,
      epoch: s.epoch,
      publishedAt: s.publishedAt,
      ...(s.model ? { bits: s.model.bits } : {}),
    },
    sections,
  });
}

export type SnapshotResult = { ok: true; model: BanditSnapshot } | { ok: false; reason: 'wrongKind' | 'malformed' };

export function snapshotFromEnvelope(env: Envelope): SnapshotResult {
  if (env.kind !== 'bandit') return { ok: false, reason: 'wrongKind' };
  const m = env.meta as Record<string, unknown>;
  const arms = m.arms;
  const impressions = env.sections.get('IMPR');
  const conversions = env.sections.get('CONV');
  const allocation = env.sections.get('ALLO');
  if (
    !Array.isArray(arms) ||
    !arms.every((a) => typeof a === 'string') ||
    !(impressions instanceof Float64Array) ||
    !(conversions instanceof Float64Array) ||
    !(allocation instanceof Float64Array) ||
    impressions.length !== arms.length ||
    conversions.length !== arms.length ||
    allocation.length !== arms.length ||
    !ALGORITHMS.includes(m.algorithm as AlgorithmName) ||
    typeof m.floor !== 'number' ||
    typeof m.epoch !== 'number'
  ) {
    return { ok: false, reason: 'malformed' };
  }
  let model: LinearThompsonModel | null = null;
  const mean = env.sections.get('MEAN');
  const precision = env.sections.get('PREC');
  if (mean || precision) {
    const bits = m.bits;
    if (
      typeof bits !== 'number' ||
      !(mean instanceof Float32Array) ||
      !(precision instanceof Float32Array) ||
      mean.length !== arms.length << bits ||
      precision.length !== mean.length
    )
      return { ok: false, reason: 'malformed' };
    model = { arms: arms.length, bits, mean, precision };
  }
  return {
    ok: true,
    model: {
      name: env.name,
      version: env.version,
      arms,
      algorithm: m.algorithm as AlgorithmName,
      floor: m.floor,
      epoch: m.epoch,
      publishedAt: typeof m.publishedAt === 'number' ? m.publishedAt : 0,
      counts: { impressions, conversions },
      allocation,
      model,
    },
  };
}
