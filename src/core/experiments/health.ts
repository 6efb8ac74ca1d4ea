/**
 * One health verdict per test, for the list and the results page: a line to read at a glance
 * and the warnings behind it. It gathers what makes a result untrustworthy or a test broken:
 * a sample-ratio mismatch (srm.ts), a guardrail that asks for a pause (guardrails.ts), goals
 * that stopped arriving, visitors without a profile cookie (stickiness lost), traffic far below
 * the plan, an arm whose payload fails to render, rows the storage caps dropped.
 *
 * What the aggregator keeps: hourly rows (`HealthPeriod`, oldest first; a week or two of them
 * is plenty, older hours can be merged into one row, which only costs the SRM test some power)
 * and the snippet's render reports per arm.
 */

import type { GuardrailReport } from './guardrails.ts';
import { sampleRatioMismatch, type SrmResult } from './srm.ts';

export interface HealthPeriod {
  /** the hour's start, ms since epoch */
  readonly start: number;
  /** per arm: fresh draws counted (srm.ts: `observed`) */
  readonly assigned: readonly number[];
  /** per arm: Σ of the probability those draws gave the arm (srm.ts: `expected`) */
  readonly expected: readonly number[];
  /** exposures counted, all arms */
  readonly exposures: number;
  /** goal events credited to an exposure of the test */
  readonly goals: number;
  /** exposures whose request carried no profile cookie */
  readonly withoutProfile: number;
}

export interface HealthInput {
  readonly now: number;
  readonly status: 'draft' | 'running' | 'paused' | 'stopped' | 'archived';
  readonly arms: readonly string[];
  readonly periods: readonly HealthPeriod[];
  /** whether visitors should keep their arm (the config's `sticky`) */
  readonly sticky: boolean;
  /** the exposures a day the team planned for, if it said */
  readonly plannedDailyExposures?: number;
  /** per arm, what the snippet reported rendering */
  readonly renders?: readonly { readonly rendered: number; readonly failed: number }[];
  readonly guardrails?: GuardrailReport;
  /** rows the storage caps dropped (the results' `evicted`) */
  readonly evicted?: { readonly pendingExposures: number; readonly parkedOutcomes: number };
}

export type HealthLevel = 'ok' | 'info' | 'warn' | 'error';

export interface HealthWarning {
  readonly code: 'noData' | 'srm' | 'guardrail' | 'goalsMissing' | 'stickinessLost' | 'lowTraffic' | 'renderFailures' | 'evicted';
  readonly level: Exclude<HealthLevel, 'ok'>;
  readonly message: string;
}

export interface Health {
  /** the worst level among the warnings */
  readonly level: HealthLevel;
  /** one line for the list */
  readonly verdict: string;
  readonly warnings: readonly HealthWarning[];
  readonly srm: SrmResult;
}

export interface HealthOptions {
  /** a silence of goals this improbable, given the test's own goal rate, is reported */
  readonly silenceProbability?: number;
  /** exposures since launch with no goal at all before "goals not arriving" */
  readonly minExposuresForGoals?: number;
  /** share of the last day's exposures without a profile cookie above which stickiness is reported lost */
  readonly maxWithoutProfile?: number;
  /** the last day's exposures below this share of the plan are "far below" */
  readonly minShareOfPlan?: number;
  /** an arm's share of failed renders above this (with at least 20 failures) is reported */
  readonly maxRenderFailures?: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const LEVELS: readonly HealthLevel[] = ['ok', 'info', 'warn', 'error'];
const int = (x: number) => String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)} %`;

export function testHealth(input: HealthInput, opts: HealthOptions = {}): Health {
  const warnings: HealthWarning[] = [];
  const periods = input.periods;
  const srm = sampleRatioMismatch(
    periods.map((p) => ({ observed: p.assigned, expected: p.expected })),
    { arms: input.arms },
  );
  const exposures = periods.reduce((t, p) => t + p.exposures, 0);
  const goals = periods.reduce((t, p) => t + p.goals, 0);

  if (exposures === 0) {
    const live = input.status === 'running';
    warnings.push({ code: 'noData', level: 'info', message: live ? 'no data yet' : `no data (${input.status})` });
  }
  if (srm.verdict !== 'ok')
    warnings.push({
      code: 'srm',
      level: srm.verdict === 'mismatch' ? 'error' : 'warn',
      message: `sample ratio ${srm.verdict === 'mismatch' ? 'mismatch: results are not trustworthy' : 'looks off'} (${srm.reason})`,
    });
  for (const reason of input.guardrails?.reasons ?? []) warnings.push({ code: 'guardrail', level: 'error', message: reason });

  const goalsWarning = goalsSilence(periods, exposures, goals, input.now, opts);
  if (goalsWarning) warnings.push(goalsWarning);

  const lastDay = periods.filter((p) => p.start >= input.now - DAY);
  const dayExposures = lastDay.reduce((t, p) => t + p.exposures, 0);
  const without = lastDay.reduce((t, p) => t + p.withoutProfile, 0);
  const maxWithout = opts.maxWithoutProfile ?? 0.2;
  if (input.sticky && dayExposures >= 100 && without / dayExposures > maxWithout)
    warnings.push({
      code: 'stickinessLost',
      level: 'warn',
      message: `${pct(without / dayExposures)} of the last day's exposures came without a profile cookie: returning visitors may see another arm`,
    });

  const plan = input.plannedDailyExposures;
  const running = periods.length > 0 && input.now - periods[0]!.start >= DAY;
  if (plan && plan > 0 && running && input.status === 'running' && dayExposures < (opts.minShareOfPlan ?? 0.5) * plan)
    warnings.push({
      code: 'lowTraffic',
      level: 'warn',
      message: `traffic far below the plan: ${int(dayExposures)} exposures in the last day, ${pct(dayExposures / plan)} of the planned ${int(plan)}`,
    });

  const maxFail = opts.maxRenderFailures ?? 0.02;
  input.renders?.forEach((r, i) => {
    const shown = r.rendered + r.failed;
    if (r.failed >= 20 && r.failed / shown > maxFail)
      warnings.push({
        code: 'renderFailures',
        level: r.failed / shown > 0.2 ? 'error' : 'warn',
        message: `arm ${input.arms[i] ?? i} failed to render ${pct(r.failed / shown)} of the time (${int(r.failed)} of ${int(shown)})`,
      });
  });

  const dropped = (input.evicted?.pendingExposures ?? 0) + (input.evicted?.parkedOutcomes ?? 0);
  if (dropped > 0)
    warnings.push({
      code: 'evicted',
      level: 'info',
      message: `storage caps dropped ${int(dropped)} rows: conversions may be undercounted`,
    });

  const level = warnings.reduce<HealthLevel>((worst, w) => (LEVELS.indexOf(w.level) > LEVELS.indexOf(worst) ? w.level : worst), 'ok');
  return { level, verdict: verdict(level, warnings, exposures, srm), warnings, srm };
}

/**
 * Goals not arriving: none at all after enough exposures, or a recent silence the test's own
 * goal rate makes improbable: P(no goal in the last n exposures) = (1 − rate)^n.
 */
function goalsSilence(
  periods: readonly HealthPeriod[],
  exposures: number,
  goals: number,
  now: number,
  opts: HealthOptions,
): HealthWarning | null {
  const minExposures = opts.minExposuresForGoals ?? 500;
  if (goals === 0)
    return exposures >= minExposures
      ? {
          code: 'goalsMissing',
          level: 'warn',
          message: `no goal events from ${int(exposures)} exposures: check the goal names and that the page sends them`,
        }
      : null;
  // the silent stretch: the hours since the last one with a goal
  let last = periods.length - 1;
  while (last >= 0 && periods[last]!.goals === 0) last--;
  let silent = 0;
  for (let i = last + 1; i < periods.length; i++) silent += periods[i]!.exposures;
  if (silent === 0) return null;
  const rate = goals / exposures;
  const chance = (1 - rate) ** silent;
  if (chance >= (opts.silenceProbability ?? 0.001)) return null;
  const since = last >= 0 && last + 1 < periods.length ? periods[last + 1]!.start : periods[0]!.start;
  const hours = Math.max(1, Math.round((now - since) / HOUR));
  return {
    code: 'goalsMissing',
    level: 'warn',
    message: `no goal events for ${hours} h despite ${int(silent)} exposures (at the test's rate of ${pct(rate)}, ${int(rate * silent)} were expected)`,
  };
}

function verdict(level: HealthLevel, warnings: readonly HealthWarning[], exposures: number, srm: SrmResult): string {
  if (warnings.length === 0)
    return `healthy: ${int(exposures)} exposures${srm.pValue !== null ? `, SRM p = ${srm.pValue.toPrecision(2)}` : ''}`;
  const first = warnings.find((w) => w.level === level)!;
  const more = warnings.length - 1;
  return `${first.message}${more > 0 ? ` (+${more} more)` : ''}`;
}
