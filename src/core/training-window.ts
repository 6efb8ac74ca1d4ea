/**
 * The period a model learned from, recorded in its meta (`trainingWindow: { from, to }`, ISO
 * 8601, `from` inclusive, `to` exclusive) so that an evaluation can default to the decisions the
 * model never saw, and say when it does not.
 */

export interface TrainingWindow {
  /** ms since epoch, inclusive */
  readonly from: number;
  /** ms since epoch, exclusive */
  readonly to: number;
}

/** The meta form; null when there is nothing to record. */
export function trainingWindowMeta(w: TrainingWindow | null | undefined): { from: string; to: string } | null {
  if (!w || !Number.isFinite(w.from) || !Number.isFinite(w.to)) return null;
  return { from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString() };
}

/** Reads the meta form; anything else (absent, malformed, to before from) is no window. */
export function parseTrainingWindow(raw: unknown): TrainingWindow | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const { from, to } = raw as { from?: unknown; to?: unknown };
  if (typeof from !== 'string' || typeof to !== 'string') return null;
  const f = Date.parse(from);
  const t = Date.parse(to);
  return Number.isFinite(f) && Number.isFinite(t) && f <= t ? { from: f, to: t } : null;
}
