/**
 * One training run: attributed examples in, an FTRL model and its holdout report out.
 *
 * The holdout is time-based: decisions at or after `cutoff` are scored but never learned
 * from. The log streams in time order, so by the time holdout decisions arrive the model has
 * seen every training decision, and scoring them as they pass equals scoring them with the
 * final model, in one pass and without storing them.
 */
import { createFeatureVector, extractFeatures, type FeatureVector } from '../core/features.ts';
import { encodeLinearModel, MAX_VARIANTS } from '../core/linear-model.ts';
import type { PolicySpec } from '../core/policy.ts';
import { type TrainingWindow, trainingWindowMeta } from '../core/training-window.ts';
import type { Example, JoinStats } from './attribution.ts';
import { CliError } from './cli.ts';
import { createFtrl, exportWeights, type Ftrl, type FtrlParams, probability, update, variantIndex } from './ftrl.ts';
import {
  auc,
  calibration,
  calibrationError,
  constantLogLoss,
  createMetrics,
  meanLogLoss,
  type Metrics,
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
  /** aggregated training: the decisions learned from, the groups of identical rows they made, and the distinct contexts */
  readonly groups?: { readonly decisions: number; readonly groups: number; readonly contexts: number };
}

/**
 * The learning state of one run, fed example by example (`fit`) or group by group (aggregated
 * training, log/train-log.ts): the model, the holdout metrics and the counts of the report.
 * Every count is a sum of weights (1 per example; a group weighs as many decisions as it holds).
 */
export interface Learner {
  readonly opts: FitOptions;
  readonly m: Ftrl;
  readonly held: Metrics;
  readonly allowed: ReadonlySet<string> | null;
  trainN: number;
  trainPos: number;
  /** predict-then-learn loss on the training stream */
  progressive: number;
  /** the first and last time of a decision learned from (the training window) */
  first: number;
  last: number;
  unreadable: number;
  skipped: number;
}

export function createLearner(opts: FitOptions): Learner {
  return {
    opts,
    m: createFtrl(opts.ftrl),
    held: createMetrics(),
    allowed: opts.variants === undefined ? null : new Set(opts.variants),
    trainN: 0,
    trainPos: 0,
    progressive: 0,
    first: Infinity,
    last: -Infinity,
    unreadable: 0,
    skipped: 0,
  };
}

/**
 * The index of `action`, learning it if the run may (at most MAX_VARIANTS, or only the ones the
 * caller names); -1 when it is not learned.
 */
export function actionIndex(l: Learner, action: string): number {
  const v = l.m.index.get(action);
  if (v !== undefined) return v;
  // Actions come from whoever called the API: learn at most the loader's MAX_VARIANTS (each
  // costs two tables of 2^bits), the first seen, or only the ones the caller names.
  if (l.m.variants.length >= MAX_VARIANTS || (l.allowed !== null && !l.allowed.has(action))) return -1;
  return variantIndex(l.m, action);
}

/**
 * One example (or `w` identical ones) with its features: learned from, or scored when it is in
 * the holdout. `fv` null: the extractor could not read the context. `first` and `last`: the
 * time of the decision (of a group's first and last decision), for the training window.
 */
export function learn(
  l: Learner,
  action: string,
  fv: FeatureVector | null,
  label: 0 | 1,
  holdout: boolean,
  w: number,
  first: number,
  last: number,
): void {
  if (fv === null) {
    l.unreadable += w;
    return;
  }
  const v = actionIndex(l, action);
  if (v < 0) {
    l.skipped += w;
    return;
  }
  if (holdout) {
    observe(l.held, probability(l.m, fv, v), label, w);
    return;
  }
  const p = update(l.m, fv, v, label, w);
  if (first < l.first) l.first = first;
  if (last > l.last) l.last = last;
  l.trainN += w;
  l.trainPos += w * label;
  l.progressive -= w * Math.log(label === 1 ? Math.max(p, 1e-15) : Math.max(1 - p, 1e-15));
}

/** Sums of weights are counts of decisions: round away the floating-point dust of 1/copies shares. */
const count = (x: number) => Math.round(x * 1e6) / 1e6;

export function finishLearner(l: Learner): { blob: Uint8Array; report: FitReport } {
  const { m, held, opts } = l;
  if (m.variants.length === 0) throw new CliError('no decisions to learn from (check --log, --slot and the time range)');
  const { bias, weights, nonZero } = exportWeights(m);
  // [first learned, just past the last learned): data from `to` on is out of sample
  const window: TrainingWindow | null = l.trainN > 0 ? { from: l.first, to: Math.min(opts.cutoff, Math.floor(l.last) + 1) } : null;
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
  const rate = l.trainN === 0 ? 0 : l.trainPos / l.trainN;
  const baseline = constantLogLoss(held, rate);
  const ll = meanLogLoss(held);
  const table = calibration(held);
  return {
    blob,
    report: {
      model: { name: opts.name, version: opts.version, variants: m.variants, bits: opts.ftrl.bits, nonZero, bytes: blob.byteLength },
      train: {
        examples: count(l.trainN),
        positives: count(l.trainPos),
        rate,
        progressiveLogLoss: l.trainN ? l.progressive / l.trainN : NaN,
      },
      holdout: {
        examples: count(held.n),
        positives: count(held.positives),
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
      unreadableContexts: count(l.unreadable),
      otherActions: count(l.skipped),
    },
  };
}

/** Trains on attributed examples in time order, one update per decision. */
export async function fit(batches: AsyncIterable<readonly Example[]>, opts: FitOptions): Promise<{ blob: Uint8Array; report: FitReport }> {
  const l = createLearner(opts);
  const fv = createFeatureVector();
  const kind = opts.kind ?? 'variant';
  let seen = 0;
  for await (const batch of batches)
    for (let i = 0; i < batch.length; i++) {
      const ex = batch[i]!;
      const d = ex.decision;
      // action '': nothing was shown (a slot that fell back without candidates), no variant to learn
      if ((opts.slot !== undefined && d.slot !== opts.slot) || d.kind !== kind || d.action === '') continue;
      if ((++seen & 4095) === 0) opts.onProgress?.(seen);
      let read: FeatureVector | null = fv;
      try {
        extractFeatures(d.context, fv); // the same extractor the Worker scores with, on the logged input
      } catch {
        read = null;
      }
      learn(l, d.action, read, ex.label, d.ts >= opts.cutoff, 1, d.ts, d.ts);
    }
  return finishLearner(l);
}
