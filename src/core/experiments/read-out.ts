/**
 * Everything a test's results page and API say about it, from what its aggregator keeps: the
 * bandit read-out per arm (bandits/results.ts), a fixed split's always-valid read-out
 * (fixed-results.ts, computed by the aggregator at each look since it carries memory between
 * looks), health (SRM and the other warnings), guardrails, the segment breakdown, time to
 * decision, the leader and how long the test has run. Pure: the Worker gathers the inputs.
 *
 * A fixed split's recommendation is its sequential decision (`winner_found` once an arm is
 * significantly better, or every arm significantly worse than control), never the bandit
 * read-out's, which ignores how often it was looked at. A stopped test's recommendation is
 * `stopped`, naming the winner it serves to everybody.
 */

import { fixedSplit } from '../bandits/allocation.ts';
import { computeResults, type Results } from '../bandits/results.ts';
import { excludePaused, pausedArms, type Experiment } from './experiment.ts';
import type { SequentialResults } from './fixed-results.ts';
import { checkGuardrails, type GuardrailReport } from './guardrails.ts';
import { testHealth, type Health, type HealthPeriod } from './health.ts';
import { segmentBreakdown, type SegmentBreakdown, type SegmentCountRow } from './segments-breakdown.ts';
import { timeToDecisionBandit, timeToDecisionFixed, type TimeToDecision } from './time-to-decision.ts';

/** Per guardrail goal, per arm: exposures and exposures that had the event (guardrails.ts). */
export interface GuardrailCountRow {
  readonly goal: string;
  readonly exposures: readonly number[];
  readonly events: readonly number[];
}

/** What the aggregator keeps beyond the arm counts (worker/experiments/live-tables.ts). */
export interface LiveCounts {
  readonly periods: readonly HealthPeriod[];
  readonly cells: readonly SegmentCountRow[];
  readonly guardrails: readonly GuardrailCountRow[];
  /** per arm: renders the snippet reported failing */
  readonly renderFailures: readonly number[];
}

export interface ReadOutInput {
  readonly experiment: Experiment;
  readonly now: number;
  /** per arm, in the experiment's arm order */
  readonly impressions: readonly number[];
  readonly conversions: readonly number[];
  readonly live: LiveCounts | null;
  readonly sequential: SequentialResults | null;
  /** the allocation last published, if any (bandits) */
  readonly allocation: readonly number[] | null;
  readonly evicted?: { readonly pendingExposures: number; readonly parkedOutcomes: number };
}

export interface ReadOut {
  /** the bandit read-out as computed (bandits/results.ts; the CSV's rows) */
  readonly bandit: Results;
  /** the per-arm read-out; `recommendation` is `stopped` for a stopped test */
  readonly results: Omit<Results, 'recommendation'> & { readonly recommendation: Results['recommendation'] | 'stopped' };
  readonly sequential: SequentialResults | null;
  readonly health: Health;
  /** null when the test watches no guardrail */
  readonly guardrails: GuardrailReport | null;
  readonly segments: readonly SegmentBreakdown[];
  readonly timeToDecision: TimeToDecision;
  /** the arm most likely best (a fixed split: its significant winner, else the highest P(best)); null before any exposure */
  readonly leader: { readonly arm: string; readonly probabilityBest: number } | null;
  /** days since launch (to the stop, for a stopped test); null for a draft */
  readonly daysRunning: number | null;
  /** true before any exposure */
  readonly noData: boolean;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export function readOut(input: ReadOutInput): ReadOut {
  const e = input.experiment;
  const arms = e.arms.map((a) => a.key);
  const k = arms.length;
  const control = Math.max(0, arms.indexOf(e.control));
  const at = (xs: readonly number[], i: number) => xs[i] ?? 0;
  const counts = {
    impressions: Float64Array.from(arms, (_, i) => at(input.impressions, i)),
    conversions: Float64Array.from(arms, (_, i) => at(input.conversions, i)),
  };
  const bandit = computeResults(arms, counts, control);
  const fixed = e.algorithm.name === 'fixed';
  const seq = input.sequential;
  let results: ReadOut['results'] = bandit;
  if (e.status === 'stopped' && e.winner)
    results = { ...bandit, recommendation: 'stopped', recommendedArm: e.winner, reason: `stopped: ${e.winner} is served to every visitor` };
  else if (fixed && seq)
    results = {
      ...bandit,
      recommendation: seq.winner ? 'winner_found' : 'keep_exploring',
      recommendedArm: seq.winner,
      reason: seq.reason,
    };

  const live = input.live;
  const paused = pausedArms(e);
  const guardrails =
    (e.guardrails ?? []).length === 0
      ? null
      : checkGuardrails(
          arms,
          control,
          (e.guardrails ?? []).map((spec) => {
            const row = live?.guardrails.find((g) => g.goal === spec.goal);
            return { spec, exposures: row?.exposures ?? [], events: row?.events ?? [] };
          }),
          { paused },
        );
  // arms a guardrail paused stay in the health verdict while they are paused
  const pausedBy = e.history
    .filter((h) => h.by === 'guardrail' && h.detail)
    .filter((h) => (h.action === 'pause-arm' ? paused.some((a) => h.detail!.includes(`arm "${a}"`)) : e.status === 'paused'))
    .map((h) => `paused by a guardrail: ${h.detail}`);
  const periods = live?.periods ?? [];
  const health = testHealth({
    now: input.now,
    status: e.status,
    arms,
    periods,
    sticky: e.sticky,
    ...(e.plannedDailyExposures ? { plannedDailyExposures: e.plannedDailyExposures } : {}),
    renders: arms.map((_, i) => {
      const failed = at(live?.renderFailures ?? [], i);
      return { rendered: Math.max(0, at(input.impressions, i) - failed), failed };
    }),
    guardrails: {
      guardrails: guardrails?.guardrails ?? [],
      action: guardrails?.action ?? 'ok',
      pauseArms: guardrails?.pauseArms ?? [],
      reasons: [...(guardrails?.reasons ?? []), ...pausedBy],
    },
    ...(input.evicted ? { evicted: input.evicted } : {}),
  });

  const segments = segmentBreakdown(arms, control, live?.cells ?? [], { interval: fixed ? 'always-valid' : 'bayesian' });

  const allocation = new Float64Array(k);
  if (fixed || input.allocation === null) fixedSplit(fixed ? e.algorithm.weights : undefined, allocation);
  else allocation.set(input.allocation.slice(0, k));
  excludePaused(allocation, arms, paused);
  const projection = {
    arms,
    counts: arms.map((_, i) => ({ exposures: at(input.impressions, i), conversions: at(input.conversions, i) })),
    controlIndex: control,
    allocation: Array.from(allocation),
    dailyExposures: dailyExposures(periods, input.now),
  };
  const timeToDecision: TimeToDecision =
    e.status === 'stopped' || e.status === 'archived'
      ? { ok: true, days: 0, basis: 'decided' }
      : fixed
        ? timeToDecisionFixed(projection, seq?.decision === 'significant')
        : timeToDecisionBandit(projection);

  const total = input.impressions.reduce((t, n) => t + n, 0);
  let leader: ReadOut['leader'] = null;
  if (total > 0) {
    const best = bandit.arms.reduce((a, b) => (b.probabilityBest > a.probabilityBest ? b : a));
    const pick = fixed && seq?.winner ? (bandit.arms.find((a) => a.arm === seq.winner) ?? best) : best;
    leader = { arm: pick.arm, probabilityBest: pick.probabilityBest };
  }
  return {
    bandit,
    results,
    sequential: seq,
    health,
    guardrails,
    segments,
    timeToDecision,
    leader,
    daysRunning: daysRunning(e, input.now),
    noData: total === 0,
  };
}

/** Exposures a day over the last day (scaled up when the test has run for less). */
export function dailyExposures(periods: readonly HealthPeriod[], now: number): number {
  const recent = periods.filter((p) => p.start >= now - DAY);
  if (recent.length === 0) return 0;
  const span = Math.min(DAY, Math.max(HOUR, now - recent[0]!.start));
  return (recent.reduce((t, p) => t + p.exposures, 0) * DAY) / span;
}

function daysRunning(e: Experiment, now: number): number | null {
  const launch = e.history.find((h) => h.action === 'launch');
  if (!launch) return null;
  const stop = e.status === 'stopped' || e.status === 'archived' ? e.history.findLast((h) => h.action === 'stop') : undefined;
  return Math.max(0, ((stop?.at ?? now) - launch.at) / DAY);
}
