/**
 * What a guardrail check does to a running test: the arms whose probability of harming a
 * guardrail passed its threshold are paused (`pause-arm`), or the whole test (`pause`) when the
 * guardrail says so or no arm would be left, as new versions of the experiment with the reasons
 * in the audit log (`by: guardrail`). Null when nothing is to change.
 */

import { pausedArms, transition, type Experiment } from './experiment.ts';
import { checkGuardrails, type GuardrailReport } from './guardrails.ts';
import type { GuardrailCountRow } from './read-out.ts';

export function guardrailPause(
  exp: Experiment,
  counts: readonly GuardrailCountRow[],
  now: number,
): { readonly next: Experiment; readonly report: GuardrailReport } | null {
  const specs = exp.guardrails ?? [];
  if (specs.length === 0 || exp.status !== 'running') return null;
  const arms = exp.arms.map((a) => a.key);
  const report = checkGuardrails(
    arms,
    Math.max(0, arms.indexOf(exp.control)),
    specs.map((spec) => {
      const row = counts.find((g) => g.goal === spec.goal);
      return { spec, exposures: row?.exposures ?? [], events: row?.events ?? [] };
    }),
    { paused: pausedArms(exp) },
  );
  if (report.action === 'ok') return null;
  const meta = (detail: string) => ({ by: 'guardrail', detail });
  let next = exp;
  if (report.action === 'pauseTest') {
    const r = transition(exp, 'pause', now, undefined, meta(report.reasons.join('; ')));
    if (r.ok) next = r.experiment;
  } else
    for (const arm of report.pauseArms) {
      const r = transition(next, 'pause-arm', now, arm, meta(report.reasons.filter((l) => l.includes(`arm "${arm}"`)).join('; ')));
      if (r.ok) next = r.experiment;
    }
  return next === exp ? null : { next, report };
}
