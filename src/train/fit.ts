/**
 * One training run: attributed examples in, an FTRL model and its holdout report out.
 *
 * The holdout is time-based: decisions at or after `cutoff` are scored but never learned
 * from. The log streams in time order, so by the time holdout decisions arrive the model has
 * seen every training decision, and scoring them as they pass equals scoring them with the
 * final model, in one pass and without storing them.
 */
import { createFeatureVector, extractFeatures } from '../core/features.ts';
import { encodeLinearModel, MAX_VARIANTS } from '../core/linear-model.ts';
import type { PolicySpec } from '../core/policy.ts';
import { type TrainingWindow, trainingWindowMeta } from '../core/training-window.ts';
import type { Example, JoinStats } from './attribution.ts';
import { CliError } from './cli.ts';
import { createFtrl, exportWeights, probability, update, variantIndex, type FtrlParams } from './ftrl.ts';
import {
  auc,
  calibration,
  calibrationError,
  constantLogLoss,
  createMetrics,
  meanLogLoss,
  observe,
  type CalibrationRow,
} from './metrics.ts';

export interface FitOptions {
  readonly name: string;
  readonly version: string;
  readonly ftrl: FtrlParams;
  /** ms since epoch; decisions from here on are the holdout */
  readonly cutoff: number;
  /** learn only decisions of this slot (all when undefined) */
  readonly slot?: string | undefined;
  /** learn only decisions of this kind (`variant` by default: bids and recommendations share the log) */
  readonly kind?: string | undefined;
  readonly policy?: PolicySpec | undefined;
  readonly target: string;
  readonly quantize?: 'int8' | 'float32';
  /** learn only these actions (all, up to MAX_VARIANTS, when undefined) */
  readonly variants?: readonly string[] | undefined;
  readonly onProgress?: (examples: number) => void;
}

export interface HoldoutReport {
  readonly examples: number;
  readonly positives: number;
  readonly rate: number;
  readonly logLoss: number;
  /** log loss of predicting the training rate for everyone */
  readonly baselineLogLoss: number;
  /** 1 − logLoss / baselineLogLoss: the share of the baseline's loss the model removes */
  readonly relativeGain: number;
  readonly auc: number;
  readonly calibration: readonly CalibrationRow[];
  readonly calibrationError: number;
}

export interface FitReport {
  readonly model: { name: string; version: string; variants: string[]; bits: number; nonZero: number; bytes: number };
  readonly train: { examples: number; positives: number; rate: number; progressiveLogLoss: number };
  readonly holdout: HoldoutReport;
  readonly cutoff: string;
  /** the decisions learned from, [from, to), as recorded in the model's meta (null: none learned) */
  readonly window: { from: string; to: string } | null;
  /** decisions whose context the extractor could not read (malformed or from an incompatible writer) */
  readonly unreadableContexts: number;
  /** decisions whose action was not learned: past MAX_VARIANTS actions, or not among `variants` */
  readonly otherActions: number;
  readonly join?: JoinStats;
}

export async function fit(batches: AsyncIterable<readonly Example[]>, opts: FitOptions): Promise<{ blob: Uint8Array; report: FitReport }> {
  const m = createFtrl(opts.ftrl);
  const fv = createFeatureVector();
  const held = createMetrics();
  let trainN = 0;
  let trainPos = 0;
  let progressive = 0; // predict-then-learn loss on the training stream
  let first = Infinity;
  let last = -Infinity;
  let seen = 0;
  let unreadable = 0;
  let skipped = 0;
  const allowed = opts.variants === undefined ? null : new Set(opts.variants);
  const kind = opts.kind ?? 'variant';
  for await (const batch of batches)
    for (let i = 0; i < batch.length; i++) {
      const ex = batch[i]!;
      const d = ex.decision;
      // action '': nothing was shown (a slot that fell back without candidates), no variant to learn
      if ((opts.slot !== undefined && d.slot !== opts.slot) || d.kind !== kind || d.action === '') continue;
      if ((++seen & 4095) === 0) opts.onProgress?.(seen);
      try {
        extractFeatures(d.context, fv); // the same extractor the Worker scores with, on the logged input
      } catch {
        unreadable++;
        continue;
      }
      // Actions come from whoever called the API: learn at most the loader's MAX_VARIANTS (each
      // costs two tables of 2^bits), the first seen, or only the ones the caller names.
      if (!m.index.has(d.action) && (m.variants.length >= MAX_VARIANTS || (allowed !== null && !allowed.has(d.action)))) {
        skipped++;
        continue;
      }
      const v = variantIndex(m, d.action);
      if (d.ts >= opts.cutoff) {
        observe(held, probability(m, fv, v), ex.label);
        continue;
      }
      const p = update(m, fv, v, ex.label);
      if (d.ts < first) first = d.ts;
      if (d.ts > last) last = d.ts;
      trainN++;
      trainPos += ex.label;
      progressive -= Math.log(ex.label === 1 ? Math.max(p, 1e-15) : Math.max(1 - p, 1e-15));
    }
  if (m.variants.length === 0) throw new CliError('no decisions to learn from (check --log, --slot and the time range)');
  const { bias, weights, nonZero } = exportWeights(m);
  // [first learned, just past the last learned): data from `to` on is out of sample
  const window: TrainingWindow | null = trainN > 0 ? { from: first, to: Math.min(opts.cutoff, Math.floor(last) + 1) } : null;
  const blob = encodeLinearModel({
    name: opts.name,
    version: opts.version,
    variants: m.variants,
    bits: opts.ftrl.bits,
    bias,
    weights,
    policy: opts.policy,
    target: opts.target,
    quantize: opts.quantize,
    trainingWindow: window,
  });
  const rate = trainN === 0 ? 0 : trainPos / trainN;
  const baseline = constantLogLoss(held, rate);
  const ll = meanLogLoss(held);
  const table = calibration(held);
  return {
    blob,
    report: {
      model: { name: opts.name, version: opts.version, variants: m.variants, bits: opts.ftrl.bits, nonZero, bytes: blob.byteLength },
      train: { examples: trainN, positives: trainPos, rate, progressiveLogLoss: trainN ? progressive / trainN : NaN },
      holdout: {
        examples: held.n,
        positives: held.positives,
        rate: held.n ? held.positives / held.n : NaN,
        logLoss: ll,
        baselineLogLoss: baseline,
        relativeGain: 1 - ll / baseline,
        auc: auc(held),
        calibration: table,
        calibrationError: calibrationError(table),
      },
      cutoff: new Date(Math.min(opts.cutoff, 8.64e15)).toISOString(),
      window: trainingWindowMeta(window),
      unreadableContexts: unreadable,
      otherActions: skipped,
    },
  };
}
