/**
 * The evaluation's window (which decisions, and whether the model saw them), its printed
 * report, and the publish gate's verdict: shared by `evaluate` and `train --gate`.
 */
import type { TrainingWindow } from '../core/training-window.ts';
import { UsageError } from './cli.ts';
import type { EvaluateReport } from './evaluate-log.ts';
import type { Estimate } from './ope-bounds.ts';
import { MIN_ESS } from './ope-warnings.ts';

export interface Window {
  /** ms since epoch, inclusive / exclusive; undefined: unbounded */
  readonly from: number | undefined;
  readonly to: number | undefined;
  /** where it came from: after the model's training window, the options, or everything */
  readonly source: 'model' | 'options' | 'all';
  /** the model's training window: null when it records none, undefined when there is no model */
  readonly trained: TrainingWindow | null | undefined;
  /** true when the model provably never learned from these decisions */
  readonly outOfSample: boolean;
  readonly warnings: string[];
  readonly json: { from: string | null; to: string | null; source: string; trainedOn: { from: string; to: string } | null };
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
const overlaps = (from: number | undefined, to: number | undefined, w: TrainingWindow) =>
  (from ?? -Infinity) < w.to && w.from < (to ?? Infinity);

export interface WindowArgs {
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  readonly all?: boolean | undefined;
  readonly trained: TrainingWindow | null | undefined;
  /** an outside reward model's training window, when it has one */
  readonly rewardTrained?: TrainingWindow | null | undefined;
}

export function evaluationWindow(o: WindowArgs): Window {
  const warnings: string[] = [];
  let from = o.from;
  const to = o.to;
  let source: Window['source'] = from !== undefined || to !== undefined ? 'options' : 'all';
  if (o.all && source === 'options') throw new UsageError('--all does not go with --from / --to');
  if (from !== undefined && to !== undefined && !(from < to)) throw new UsageError('--from must be before --to');
  const t = o.trained;
  if (source === 'all' && !o.all && t) {
    from = t.to;
    source = 'model';
  }
  if (t === null)
    warnings.push(
      'the model records no training window (trained before windows were recorded, or by hand): the evaluation may include decisions it learned from',
    );
  else if (t && overlaps(from, to, t))
    warnings.push(`the window overlaps the model's training window (${iso(t.from)} to ${iso(t.to)}): these estimates are in-sample`);
  const r = o.rewardTrained;
  if (r && overlaps(from, to, r)) warnings.push('the reward model learned from decisions in this window: DR and DM are in-sample');
  return {
    from,
    to,
    source,
    trained: t,
    outOfSample: t !== undefined && t !== null && !overlaps(from, to, t),
    warnings,
    json: { from: iso(from), to: iso(to), source, trainedOn: t ? { from: iso(t.from)!, to: iso(t.to)! } : null },
  };
}

export function describeWindow(w: Window): string {
  const span = `${iso(w.from) ?? 'start of the log'} to ${iso(w.to) ?? 'end of the log'}`;
  if (w.source === 'model') return `${span} (after the model's training window)`;
  if (w.source === 'options') return `${span} (--from / --to)`;
  return `every decision${w.trained === undefined ? '' : ', the training window included'}`;
}

const pct = (x: number) => (Number.isFinite(x) ? (Math.abs(x) < 1 ? `${(x * 100).toFixed(3)}%` : x.toFixed(4)) : 'n/a');

export function formatEvaluation(r: EvaluateReport, label: string, w: Window, warnings: readonly string[]): string {
  const row = (name: string, e: Estimate) => `${name.padEnd(22)} ${pct(e.value).padStart(9)}   [${pct(e.low)}, ${pct(e.high)}]`;
  const lines = [
    `window    ${describeWindow(w)}`,
    `${r.n} logged decisions in the window (${r.skipped} skipped, ${r.outside} outside); candidate: ${label}`,
    `${'estimate'.padEnd(22)} ${'value'.padStart(9)}   ${Math.round(r.level * 100)}% interval`,
    row('logging (observed)', r.logging),
    row('IPS', r.ips),
    row('SNIPS', r.snips),
    row('DR (cross-fitted)', r.dr),
    row('DM (reward model)', r.dm),
    `weights   effective sample size ${r.ess.toFixed(1)} of ${r.n}; max ${r.maxWeight.toPrecision(4)} (${(r.maxWeightShare * 100).toFixed(2)}% of the total), mean ${r.meanWeight.toFixed(3)}`,
    `matched   ${r.matched} decisions the candidate could have made, ${r.matchedRewards} of them rewarded`,
  ];
  for (const x of warnings) lines.push(`warning   ${x}`);
  return lines.join('\n');
}

/** Why the gate refuses to publish, or null when it lets the model through. */
export function gateVerdict(r: EvaluateReport, on: 'dr' | 'snips' | 'ips', w: Window): string | null {
  if (!w.outOfSample)
    return w.trained === null || w.trained === undefined
      ? 'the model records no training window, so the gate cannot tell whether the estimate is out of sample (train it again with npm run train)'
      : "the window overlaps the model's training window: the gate judges out-of-sample estimates only";
  if (!(r.ess >= MIN_ESS))
    return `effective sample size ${r.ess.toFixed(1)} is below ${MIN_ESS}: too few out-of-sample decisions where the candidate agrees with the log to judge it`;
  const low = r[on].low;
  if (!(low >= r.logging.value))
    return `${on.toUpperCase()} lower bound ${pct(low)} is below the logging policy's observed ${pct(r.logging.value)} (out of sample, ${r.n} decisions)`;
  return null;
}
