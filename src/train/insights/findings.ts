/**
 * A finding: one thing the report says, as data (`--json`) and as a sentence. The shape is the
 * contract of `--json` (docs/insights.md):
 *
 *   kind      shift    a metric moved between the comparison period and the chosen one
 *             anomaly  something looks wrong (sample-ratio mismatch, fallback spike, events
 *                      stopping, a few visitors dominating)
 *             segment  a segment's best variant differs from the overall best
 *   subject   what it is about: { slot, variant }, { experiment, arm }, { campaign }, …
 *   metric    a metric name of docs/insights.md (ctr, cvr, win_rate, …)
 *   before, after, change   the values and after / before − 1 (signed); null where not defined
 *   interval  the change's interval, or null
 *   severity  high | medium | low
 *   against   what `before` is: `previous` (the period just before), `week` (the same weekday a
 *             week earlier), `history` (control limits or a baseline fitted on the history before
 *             the period), or null (no comparison in time: segments, SRM, a few visitors, stale models)
 */
export type FindingKind = 'shift' | 'anomaly' | 'segment';
export type Severity = 'high' | 'medium' | 'low';
export type Against = 'previous' | 'week' | 'history';

export interface Finding {
  readonly kind: FindingKind;
  readonly subject: Readonly<Record<string, string>>;
  readonly metric: string;
  readonly before: number | null;
  readonly after: number | null;
  readonly change: number | null;
  readonly interval: [number, number] | null;
  readonly severity: Severity;
  readonly sentence: string;
  readonly against?: Against | null;
}

/** A finding as the report holds it: plus its chart's anchor and a rank key. */
export interface RankedFinding extends Finding {
  /** −log₁₀ p (or another strength): within a severity, stronger first */
  readonly strength: number;
  /** the id of the chart it links to in the HTML report, if any */
  readonly chart?: string;
}

/**
 * By the size of the change on the log scale, so a halving weighs as much as a doubling:
 * high from ×1.5 or ÷1.5 (+50 %, −33 %), medium from ×1.2 or ÷1.2 (+20 %, −17 %).
 */
export const severityOf = (change: number): Severity => {
  const a = Math.abs(Math.log1p(change));
  return a >= Math.log(1.5) ? 'high' : a >= Math.log(1.2) ? 'medium' : 'low';
};

const ORDER: Record<Severity, number> = { high: 0, medium: 1, low: 2 };

/** Most important first: severity, then strength. */
export const rank = (fs: readonly RankedFinding[]): RankedFinding[] =>
  [...fs].sort((a, b) => ORDER[a.severity] - ORDER[b.severity] || b.strength - a.strength);

/** The JSON form: exactly the documented fields. */
export const asJson = (f: Finding): Finding => ({
  kind: f.kind,
  subject: f.subject,
  metric: f.metric,
  before: f.before,
  after: f.after,
  change: f.change,
  interval: f.interval,
  severity: f.severity,
  sentence: f.sentence,
  against: f.against ?? null,
});

export function fmtValue(x: number, format: 'percent' | 'money' | 'count'): string {
  if (format === 'percent') return `${(x * 100).toFixed(x < 0.001 ? 3 : x < 0.1 ? 2 : 1)} %`;
  if (format === 'money') return x.toFixed(x < 1 ? 4 : 2);
  return Math.round(x).toLocaleString('en-US');
}

/** `+12 %`, `−48 %` (a real minus sign: the sentences are read, not parsed). */
export const fmtChange = (c: number): string => `${c < 0 ? '−' : '+'}${Math.abs(c * 100).toFixed(Math.abs(c) < 0.1 ? 1 : 0)} %`;

export const fmtInterval = (i: readonly [number, number]): string => `${fmtChange(i[0])} to ${fmtChange(i[1])}`;

/** `slot hero, variant bold` */
export const fmtSubject = (s: Readonly<Record<string, string>>): string =>
  Object.entries(s)
    .map(([k, v]) => `${k.replaceAll('_', ' ')} ${v || '(none)'}`)
    .join(', ');
