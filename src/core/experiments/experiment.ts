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
 * is a no-op that succeeds, so scripts can retry safely. A running or paused test can also pause
 * one arm (`pause-arm`: a guardrail's doing, or an admin's) and resume it; a paused arm is served
 * to nobody, and the other arms share its traffic.
 */

import type { VisitorContext } from '../context.ts';
import type { AlgorithmSpec } from '../bandits/types.ts';
import type { GuardrailSpec } from './guardrails.ts';

/** An experiment's key: how slots, events and admin calls name it (and its Durable Object). */
export const EXPERIMENT_KEY = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export type ExperimentStatus = 'draft' | 'running' | 'paused' | 'stopped' | 'archived';
export type Action = 'launch' | 'pause' | 'resume' | 'stop' | 'archive' | 'rerandomize' | 'pause-arm' | 'resume-arm';
export const ACTIONS: readonly Action[] = ['launch', 'pause', 'resume', 'stop', 'archive', 'rerandomize', 'pause-arm', 'resume-arm'];
/** The actions that name an arm: `stop` (the winner) and the arm pauses. */
export const ARM_ACTIONS: readonly Action[] = ['stop', 'pause-arm', 'resume-arm'];

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
  /** outcomes the test must not make worse; a harmed one pauses the arm or the test (guardrails.ts) */
  readonly guardrails?: readonly GuardrailSpec[];
  /** seconds between guardrail checks (default a day: every look can cross the threshold by chance) */
  readonly guardrailCheckSeconds?: number;
  /** exposures a day the team expects: the health check warns when traffic falls far below */
  readonly plannedDailyExposures?: number;
  /**
   * what counts as an exposure: the decision served (default), or its viewable impression
   * (the snippet's beacon: half the slot in view for a second), so arms below the fold are judged
   * on visitors who saw them
   */
  readonly exposure?: 'served' | 'viewable';
}

/** One line of the audit log: who changed what, and when. */
export interface AuditEntry {
  readonly at: number;
  readonly action: string;
  /** the status after the change */
  readonly status: ExperimentStatus;
  /** who: the admin token's label, `guardrail`, … */
  readonly by?: string;
  /** what: the arm, the fields edited, the guardrail's reason */
  readonly detail?: string;
}

/** Who made a change and why, for the audit log. */
export interface AuditMeta {
  readonly by?: string;
  readonly detail?: string;
}

/** Entries the audit log keeps per experiment (the oldest go first). */
export const AUDIT_ENTRIES = 200;

export interface Experiment extends ExperimentConfig {
  readonly status: ExperimentStatus;
  /** config version: bumped by every write, each version kept in KV */
  readonly version: number;
  /** assignment epoch: bumped by re-randomization, voids sticky assignments */
  readonly epoch: number;
  readonly winner: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** the audit log, oldest first */
  readonly history: readonly AuditEntry[];
  /** arms served to nobody (a guardrail or an admin paused them); absent: none */
  readonly pausedArms?: readonly string[];
}

function entry(at: number, action: string, status: ExperimentStatus, meta: AuditMeta | undefined): AuditEntry {
  return { at, action, status, ...(meta?.by ? { by: meta.by } : {}), ...(meta?.detail ? { detail: meta.detail } : {}) };
}

/** `history` with one more audit entry, bounded. */
export function withAudit(e: Experiment, at: number, action: string, status: ExperimentStatus, meta?: AuditMeta): AuditEntry[] {
  return [...e.history, entry(at, action, status, meta)].slice(-AUDIT_ENTRIES);
}

export function newExperiment(config: ExperimentConfig, now: number, meta?: AuditMeta): Experiment {
  return {
    ...config,
    status: 'draft',
    version: 1,
    epoch: 1,
    winner: null,
    createdAt: now,
    updatedAt: now,
    history: [entry(now, 'create', 'draft', meta)],
  };
}

export type TransitionResult =
  | { ok: true; experiment: Experiment; changed: boolean }
  | { ok: false; reason: 'illegal' | 'unknownArm'; message: string };

const NEXT: Record<
  Exclude<Action, 'stop' | 'rerandomize' | 'pause-arm' | 'resume-arm'>,
  { from: readonly ExperimentStatus[]; to: ExperimentStatus }
> = {
  launch: { from: ['draft'], to: 'running' },
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  archive: { from: ['draft', 'stopped'], to: 'archived' },
};

function moved(e: Experiment, action: string, patch: Partial<Experiment>, now: number, meta?: AuditMeta): TransitionResult {
  const status = patch.status ?? e.status;
  return {
    ok: true,
    changed: true,
    experiment: { ...e, ...patch, version: e.version + 1, updatedAt: now, history: withAudit(e, now, action, status, meta) },
  };
}

/** The arms served to nobody. */
export function pausedArms(e: Pick<Experiment, 'pausedArms'>): readonly string[] {
  return e.pausedArms ?? [];
}

/**
 * Applies `action`; `arm` is the arm a stop sends all traffic to (the winner), or the arm a
 * `pause-arm` / `resume-arm` names. `meta` goes to the audit log.
 */
export function transition(e: Experiment, action: Action, now: number, arm?: string, meta?: AuditMeta): TransitionResult {
  const illegal = (why = `cannot ${action} a ${e.status} experiment`): TransitionResult => ({ ok: false, reason: 'illegal', message: why });
  const unknown = (what: string): TransitionResult => ({
    ok: false,
    reason: 'unknownArm',
    message: `${what} "${arm}" is not an arm of ${e.key}`,
  });
  if (arm !== undefined && !e.arms.some((a) => a.key === arm)) return unknown(action === 'stop' ? 'winner' : 'arm');
  const note = (detail: string): AuditMeta => ({ ...meta, detail: meta?.detail ?? detail });
  if (action === 'stop') {
    if (e.status === 'stopped') {
      return arm === undefined || arm === e.winner ? { ok: true, experiment: e, changed: false } : illegal();
    }
    if (e.status !== 'running' && e.status !== 'paused') return illegal();
    const winner = arm ?? e.control;
    return moved(e, action, { status: 'stopped', winner }, now, note(`winner ${winner}`));
  }
  if (action === 'pause-arm' || action === 'resume-arm') {
    if (arm === undefined) return { ok: false, reason: 'unknownArm', message: `${action} needs the arm to ${action.slice(0, -4)}` };
    if (e.status !== 'running' && e.status !== 'paused') return illegal();
    const paused = pausedArms(e);
    if (action === 'resume-arm') {
      if (!paused.includes(arm)) return { ok: true, experiment: e, changed: false };
      return moved(e, action, { pausedArms: paused.filter((a) => a !== arm) }, now, note(arm));
    }
    if (paused.includes(arm)) return { ok: true, experiment: e, changed: false };
    if (e.arms.every((a) => a.key === arm || paused.includes(a.key)))
      return illegal(`"${arm}" is the last arm served; pause the test instead`);
    return moved(e, action, { pausedArms: [...paused, arm] }, now, note(arm));
  }
  if (action === 'rerandomize') {
    if (e.status !== 'running' && e.status !== 'paused') return illegal();
    return moved(e, action, { epoch: e.epoch + 1 }, now, note(`epoch ${e.epoch + 1}`));
  }
  const rule = NEXT[action];
  if (e.status === rule.to) return { ok: true, experiment: e, changed: false };
  if (!rule.from.includes(e.status)) return illegal();
  return moved(e, action, { status: rule.to }, now, meta);
}

const CONFIG_FIELDS: readonly (keyof ExperimentConfig)[] = [
  'name',
  'description',
  'arms',
  'control',
  'goals',
  'attributionWindowSeconds',
  'traffic',
  'targeting',
  'algorithm',
  'schedule',
  'publishSeconds',
  'sticky',
  'guardrails',
  'guardrailCheckSeconds',
  'plannedDailyExposures',
  'exposure',
];

/** What an edit changed, for the audit log: `traffic 1 → 0.5; goals ["click"] → ["click","purchase"]`. */
export function describeChanges(before: ExperimentConfig, after: ExperimentConfig): string {
  const short = (v: unknown) => {
    const s = v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v);
    return s.length > 80 ? `${s.slice(0, 77)}…` : s;
  };
  const changes = CONFIG_FIELDS.filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f])).map(
    (f) => `${f} ${short(before[f])} → ${short(after[f])}`,
  );
  return changes.length === 0 ? 'no change' : changes.join('; ');
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

/**
 * Takes the paused arms out of an allocation: their shares go to 0 and the others are scaled
 * up to sum 1 (a bandit's floor then holds among the arms served). Unchanged when no arm is
 * paused, or when every arm with a share is (a stale config: serving something beats nothing).
 */
export function excludePaused(p: Float64Array, arms: readonly string[], paused: readonly string[]): void {
  if (paused.length === 0) return;
  let kept = 0;
  for (let i = 0; i < p.length; i++) if (!paused.includes(arms[i]!)) kept += p[i]!;
  if (!(kept > 0)) return;
  for (let i = 0; i < p.length; i++) p[i] = paused.includes(arms[i]!) ? 0 : p[i]! / kept;
}
