/**
 * A bandit creative test: its configuration, its lifecycle, and who is eligible for it.
 * Pure: the Worker stores experiments in KV and calls these to change and evaluate them.
 *
 * Lifecycle (anything not listed is illegal, answered 409 by the API):
 *
 *   draft ──launch──► running ──pause──► paused ──resume──► running
 *   running | paused ──stop(winner)──► stopped ──archive──► archived ◄──archive── draft
 *
 * Repeating a transition that already holds (launch a running test, stop with the same winner)
 * is a no-op that succeeds, so scripts can retry safely.
 */

import type { VisitorContext } from '../context.ts';
import type { AlgorithmSpec } from '../bandits/types.ts';

/** An experiment's key: how slots, events and admin calls name it (and its Durable Object). */
export const EXPERIMENT_KEY = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export type ExperimentStatus = 'draft' | 'running' | 'paused' | 'stopped' | 'archived';
export type Action = 'launch' | 'pause' | 'resume' | 'stop' | 'archive' | 'rerandomize';
export const ACTIONS: readonly Action[] = ['launch', 'pause', 'resume', 'stop', 'archive', 'rerandomize'];

export type PayloadType = 'text' | 'html' | 'json' | 'url';

export interface Arm {
  readonly key: string;
  readonly name?: string;
  /** the creative: text, an HTML fragment, JSON, or a URL */
  readonly payload: { readonly type: PayloadType; readonly value: unknown };
}

export type TargetField =
  | 'country'
  | 'region'
  | 'city'
  | 'device'
  | 'os'
  | 'browser'
  | 'referrer'
  | 'pageType'
  | 'utmSource'
  | 'utmMedium'
  | 'utmCampaign';

export interface Targeting {
  /** eligible when the visitor is in any of these segments (omitted: no segment condition) */
  readonly segments?: readonly string[];
  /** eligible when every listed context field takes one of the listed values */
  readonly context?: Readonly<Partial<Record<TargetField, readonly string[]>>>;
}

/** What an admin writes. */
export interface ExperimentConfig {
  readonly key: string;
  readonly name: string;
  readonly description?: string;
  readonly arms: readonly Arm[];
  /** arm key of the control: the default for ineligible visitors and the uplift baseline */
  readonly control: string;
  /** outcome names (`click`, `conversion`, …) or custom goal names that count as a conversion */
  readonly goals: readonly string[];
  /** an outcome counts for the visitor's latest exposure at most this long before it */
  readonly attributionWindowSeconds: number;
  /** share of eligible visitors who enter the test (0–1) */
  readonly traffic: number;
  readonly targeting: Targeting;
  readonly algorithm: AlgorithmSpec;
  /** optional start and end, ms since epoch: outside them the test serves control */
  readonly schedule: { readonly start?: number; readonly end?: number };
  /** seconds between posterior snapshots published to KV */
  readonly publishSeconds: number;
  /** visitors keep their arm (true) or are drawn again on every request (false) */
  readonly sticky: boolean;
}

export interface Experiment extends ExperimentConfig {
  readonly status: ExperimentStatus;
  /** config version: bumped by every write, each version kept in KV */
  readonly version: number;
  /** assignment epoch: bumped by re-randomization, voids sticky assignments */
  readonly epoch: number;
  readonly winner: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly history: readonly { readonly at: number; readonly action: string; readonly status: ExperimentStatus }[];
}

export function newExperiment(config: ExperimentConfig, now: number): Experiment {
  return {
    ...config,
    status: 'draft',
    version: 1,
    epoch: 1,
    winner: null,
    createdAt: now,
    updatedAt: now,
    history: [{ at: now, action: 'create', status: 'draft' }],
  };
}

export type TransitionResult =
  | { ok: true; experiment: Experiment; changed: boolean }
  | { ok: false; reason: 'illegal' | 'unknownArm'; message: string };

const NEXT: Record<Exclude<Action, 'stop' | 'rerandomize'>, { from: readonly ExperimentStatus[]; to: ExperimentStatus }> = {
  launch: { from: ['draft'], to: 'running' },
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  archive: { from: ['draft', 'stopped'], to: 'archived' },
};

function moved(e: Experiment, action: string, patch: Partial<Experiment>, now: number): TransitionResult {
  const status = patch.status ?? e.status;
  return {
    ok: true,
    changed: true,
    experiment: {
      ...e,
      ...patch,
      version: e.version + 1,
      updatedAt: now,
      history: [...e.history, { at: now, action, status }].slice(-100),
    },
  };
}

/** Applies `action`; `winner` is the arm a stop sends all traffic to. */
export function transition(e: Experiment, action: Action, now: number, winner?: string): TransitionResult {
  const illegal = (): TransitionResult => ({ ok: false, reason: 'illegal', message: `cannot ${action} a ${e.status} experiment` });
  if (action === 'stop') {
    if (winner !== undefined && !e.arms.some((a) => a.key === winner)) {
      return { ok: false, reason: 'unknownArm', message: `winner "${winner}" is not an arm of ${e.key}` };
    }
    if (e.status === 'stopped') {
      return winner === undefined || winner === e.winner ? { ok: true, experiment: e, changed: false } : illegal();
    }
    if (e.status !== 'running' && e.status !== 'paused') return illegal();
    return moved(e, action, { status: 'stopped', winner: winner ?? e.control }, now);
  }
  if (action === 'rerandomize') {
    if (e.status !== 'running' && e.status !== 'paused') return illegal();
    return moved(e, action, { epoch: e.epoch + 1 }, now);
  }
  const rule = NEXT[action];
  if (e.status === rule.to) return { ok: true, experiment: e, changed: false };
  if (!rule.from.includes(e.status)) return illegal();
  return moved(e, action, { status: rule.to }, now);
}

/** Which config fields a status allows changing: arms and control are fixed once launched. */
export function editable(e: Experiment, next: ExperimentConfig): { ok: true } | { ok: false; field: string; message: string } {
  if (e.status === 'stopped' || e.status === 'archived')
    return { ok: false, field: '(body)', message: `a ${e.status} experiment cannot be edited` };
  if (next.key !== e.key) return { ok: false, field: 'key', message: 'the key cannot change' };
  if (e.status !== 'draft') {
    const same = next.arms.length === e.arms.length && next.arms.every((a, i) => a.key === e.arms[i]!.key);
    if (!same) return { ok: false, field: 'arms', message: 'arms cannot be added, removed or reordered after launch; create a new test' };
    if (next.control !== e.control) return { ok: false, field: 'control', message: 'the control cannot change after launch' };
    if (next.algorithm.name !== e.algorithm.name)
      return { ok: false, field: 'algorithm.name', message: 'the algorithm cannot change after launch' };
  }
  return { ok: true };
}

export type Ineligible = 'draft' | 'paused' | 'stopped' | 'archived' | 'schedule' | 'targeting' | 'traffic';

/**
 * Whether this visitor enters the test now. `trafficUniform` is the visitor's fixed uniform
 * for this test, so the traffic split is stable across requests.
 */
export function eligibility(e: Experiment, ctx: VisitorContext, trafficUniform: number): Ineligible | null {
  if (e.status !== 'running') return e.status;
  const now = ctx.now;
  if ((e.schedule.start !== undefined && now < e.schedule.start) || (e.schedule.end !== undefined && now >= e.schedule.end))
    return 'schedule';
  const t = e.targeting;
  if (t.segments && t.segments.length > 0 && !t.segments.some((s) => ctx.segments.includes(s))) return 'targeting';
  if (t.context) {
    for (const [field, values] of Object.entries(t.context)) {
      if (values && !values.includes(String(ctx[field as TargetField]))) return 'targeting';
    }
  }
  return trafficUniform < e.traffic ? null : 'traffic';
}

/** Whether an outcome counts as a conversion for this test. */
export function isGoal(goals: readonly string[], name: string, goal: string | undefined): boolean {
  return goals.includes(name) || (goal !== undefined && goals.includes(goal));
}
