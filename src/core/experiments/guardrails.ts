/**
 * Guardrail goals: outcomes a test must not make worse (bounce, refund, error), watched beside
 * the goal it optimizes. For each arm against control, the probability that the arm harms the
 * guardrail, P(rate_arm > rate_control · (1 + margin)) (or below, for a rate where lower is
 * worse), from Beta(1 + events, 1 + exposures − events) posteriors by seeded Monte Carlo, so the
 * same counts always give the same decision. Past the threshold, with enough exposures on both
 * sides, the arm is paused, or the whole test when the guardrail says so or no other arm would
 * be left; the reason is the line the audit log records.
 *
 * The check runs on every look, and a posterior probability looked at often crosses a threshold
 * by chance sooner or later: that is why the default threshold is 0.99 rather than 0.95
 * (bench/quality/guardrail-aa.ts measures the false-pause rate of both under daily looks).
 *
 * What the aggregator keeps: per guardrail goal and per arm, the exposures (the test's own) and
 * the exposures that had the guardrail event within the attribution window (counted once per
 * exposure, like conversions).
 */

import { beta, mulberry32 } from '../bandits/rng.ts';

export interface GuardrailSpec {
  /** the goal name the guardrail counts (`bounce`, `refund`, `error`, …) */
  readonly goal: string;
  /** true for a rate where lower is worse (e.g. add-to-cart as a guardrail); default: higher is worse */
  readonly lowerIsWorse?: boolean;
  /** P(harm) above which the guardrail acts (default 0.99) */
  readonly threshold?: number;
  /** exposures the arm and control each need before the guardrail acts (default 1000) */
  readonly minExposures?: number;
  /** relative change that counts as harm (default 0: any worsening) */
  readonly margin?: number;
  /** what harm does: pause the arm (default) or the whole test (e.g. errors) */
  readonly onHarm?: 'pauseArm' | 'pauseTest';
}

export interface GuardrailCounts {
  readonly spec: GuardrailSpec;
  /** per arm, in the test's arm order */
  readonly exposures: readonly number[];
  readonly events: readonly number[];
}

export interface GuardrailArm {
  readonly arm: string;
  readonly exposures: number;
  readonly events: number;
  readonly rate: number;
  /** null for control, a paused arm, and below the minimum sample */
  readonly probabilityHarm: number | null;
  readonly harmful: boolean;
}

export interface GuardrailResult {
  readonly goal: string;
  readonly arms: readonly GuardrailArm[];
  readonly action: GuardrailAction;
}

export type GuardrailAction = 'ok' | 'pauseArm' | 'pauseTest';

export interface GuardrailReport {
  readonly guardrails: readonly GuardrailResult[];
  /** the strongest action any guardrail asks for */
  readonly action: GuardrailAction;
  /** arms to pause (empty unless action is pauseArm) */
  readonly pauseArms: readonly string[];
  /** one line per harmful arm, for the audit log */
  readonly reasons: readonly string[];
}

export interface GuardrailOptions {
  /** arms already paused: not judged again, and not counted as arms left */
  readonly paused?: readonly string[];
  readonly draws?: number;
  readonly seed?: number;
}

export const GUARDRAIL_DEFAULTS = { threshold: 0.99, minExposures: 1000, margin: 0, draws: 4000, seed: 0x6a4d } as const;

function posteriorDraws(exposures: number, events: number, draws: number, seed: number): Float64Array {
  const rng = mulberry32(seed);
  const out = new Float64Array(draws);
  const a = 1 + events;
  const b = 1 + Math.max(0, exposures - events);
  for (let d = 0; d < draws; d++) out[d] = beta(rng, a, b);
  return out;
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

export function checkGuardrails(
  arms: readonly string[],
  controlIndex: number,
  guardrails: readonly GuardrailCounts[],
  opts: GuardrailOptions = {},
): GuardrailReport {
  const draws = opts.draws ?? GUARDRAIL_DEFAULTS.draws;
  const seed = opts.seed ?? GUARDRAIL_DEFAULTS.seed;
  const paused = new Set(opts.paused ?? []);
  const reasons: string[] = [];
  const pauseArms = new Set<string>();
  let pauseTest = false;
  const results = guardrails.map((g, gi): GuardrailResult => {
    const s = g.spec;
    const threshold = s.threshold ?? GUARDRAIL_DEFAULTS.threshold;
    const min = s.minExposures ?? GUARDRAIL_DEFAULTS.minExposures;
    const margin = s.margin ?? GUARDRAIL_DEFAULTS.margin;
    const nc = g.exposures[controlIndex] ?? 0;
    const ec = g.events[controlIndex] ?? 0;
    // Each arm gets its own stream, control one shared by every comparison of this guardrail.
    const control = nc >= min ? posteriorDraws(nc, ec, draws, seed + gi * 7919) : null;
    const rows = arms.map((arm, i): GuardrailArm => {
      const n = g.exposures[i] ?? 0;
      const e = g.events[i] ?? 0;
      const row = { arm, exposures: n, events: e, rate: n > 0 ? e / n : 0 };
      if (i === controlIndex || paused.has(arm) || control === null || n < min) return { ...row, probabilityHarm: null, harmful: false };
      const mine = posteriorDraws(n, e, draws, seed + gi * 7919 + (i + 1) * 104_729);
      let harm = 0;
      for (let d = 0; d < draws; d++) {
        const worse = s.lowerIsWorse ? mine[d]! < control[d]! * (1 - margin) : mine[d]! > control[d]! * (1 + margin);
        if (worse) harm++;
      }
      const probabilityHarm = harm / draws;
      const harmful = probabilityHarm > threshold;
      if (harmful) {
        const dir = s.lowerIsWorse ? 'lowers' : 'raises';
        reasons.push(
          `guardrail "${s.goal}": arm "${arm}" ${dir} its rate to ${pct(row.rate)} from ${pct(nc > 0 ? ec / nc : 0)} on control "${arms[controlIndex]}" ` +
            `(P(harm) ${probabilityHarm.toFixed(3)} > ${threshold}; ${n} and ${nc} exposures)`,
        );
      }
      return { ...row, probabilityHarm, harmful };
    });
    const harmful = rows.filter((r) => r.harmful).map((r) => r.arm);
    let action: GuardrailAction = 'ok';
    if (harmful.length > 0) {
      const left = arms.filter((a, i) => i !== controlIndex && !paused.has(a) && !harmful.includes(a));
      action = s.onHarm === 'pauseTest' || left.length === 0 ? 'pauseTest' : 'pauseArm';
      if (action === 'pauseTest') pauseTest = true;
      for (const a of harmful) pauseArms.add(a);
    }
    return { goal: s.goal, arms: rows, action };
  });
  // Two guardrails may each leave an arm standing yet together pause them all.
  const left = arms.filter((a, i) => i !== controlIndex && !paused.has(a) && !pauseArms.has(a));
  if (pauseArms.size > 0 && left.length === 0) pauseTest = true;
  const action: GuardrailAction = pauseTest ? 'pauseTest' : pauseArms.size > 0 ? 'pauseArm' : 'ok';
  return { guardrails: results, action, pauseArms: action === 'pauseArm' ? [...pauseArms] : [], reasons };
}
