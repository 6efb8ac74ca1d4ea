/**
 * Holdout metrics in fixed memory: log loss summed per example, and a fine histogram of
 * predictions on the logit scale (4096 bins over [-16, 16], 0.008 wide) holding positives,
 * negatives and the sum of predicted probabilities per bin. AUC (ties within a bin count one
 * half) and an equal-count calibration table are read off the histogram, so no prediction
 * is stored. A constant predictor falls in one bin and scores AUC 0.5, as it should. Examples
 * may carry weights (counts of identical examples); every sum is then weighted.
 */

const BINS = 4096;
const LO = -16;
const HI = 16;
const EPS = 1e-15;

export interface Metrics {
  n: number;
  positives: number;
  logLoss: number;
  readonly pos: Float64Array;
  readonly neg: Float64Array;
  readonly psum: Float64Array;
}

export function createMetrics(): Metrics {
  return { n: 0, positives: 0, logLoss: 0, pos: new Float64Array(BINS), neg: new Float64Array(BINS), psum: new Float64Array(BINS) };
}

/** One example with prediction `p` and label `y`, counted `w` times (a group of identical examples). */
export function observe(m: Metrics, p: number, y: number, w = 1): void {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  m.n += w;
  m.positives += w * y;
  m.logLoss -= w * (y === 1 ? Math.log(q) : Math.log(1 - q));
  const x = Math.log(q / (1 - q));
  const b = Math.max(0, Math.min(BINS - 1, Math.floor(((x - LO) / (HI - LO)) * BINS)));
  if (y === 1) m.pos[b]! += w;
  else m.neg[b]! += w;
  m.psum[b]! += w * p;
}

export function meanLogLoss(m: Metrics): number {
  return m.n === 0 ? NaN : m.logLoss / m.n;
}

/** Area under the ROC curve: P(score of a positive > score of a negative), ties = ½. */
export function auc(m: Metrics): number {
  const P = m.positives;
  const N = m.n - P;
  if (P === 0 || N === 0) return NaN;
  let negBelow = 0;
  let area = 0;
  for (let b = 0; b < BINS; b++) {
    area += m.pos[b]! * (negBelow + 0.5 * m.neg[b]!);
    negBelow += m.neg[b]!;
  }
  return area / (P * N);
}

export interface CalibrationRow {
  readonly count: number;
  readonly predicted: number;
  readonly observed: number;
}

/** Up to `groups` rows of about equal count, from lowest to highest prediction. */
export function calibration(m: Metrics, groups = 10): CalibrationRow[] {
  const rows: CalibrationRow[] = [];
  const target = m.n / groups;
  let count = 0;
  let pos = 0;
  let psum = 0;
  for (let b = 0; b < BINS; b++) {
    const c = m.pos[b]! + m.neg[b]!;
    count += c;
    pos += m.pos[b]!;
    psum += m.psum[b]!;
    if (count > 0 && (count >= target || b === BINS - 1)) {
      rows.push({ count, predicted: psum / count, observed: pos / count });
      count = 0;
      pos = 0;
      psum = 0;
    }
  }
  return rows;
}

/** Log loss of predicting the constant rate `p` for every example in `m`. */
export function constantLogLoss(m: Metrics, p: number): number {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return m.n === 0 ? NaN : -(m.positives * Math.log(q) + (m.n - m.positives) * Math.log(1 - q)) / m.n;
}

/** Expected calibration error: count-weighted mean |predicted − observed| over the table. */
export function calibrationError(rows: readonly CalibrationRow[]): number {
  let n = 0;
  let e = 0;
  for (const r of rows) {
    n += r.count;
    e += r.count * Math.abs(r.predicted - r.observed);
  }
  return n === 0 ? NaN : e / n;
}
