/**
 * What the admin API, the admin page and any future caller do to experiments: create, edit,
 * transition, report. Each write goes to the experiment's Durable Object, which takes it only
 * if no other write got there first, then to KV (a new version); failures are HttpErrors the
 * one error boundary answers.
 */
import { readOut, type ReadOut } from '../../core/experiments/read-out.ts';
import {
  describeChanges,
  editable,
  newExperiment,
  transition,
  withAudit,
  type Action,
  type Experiment,
} from '../../core/experiments/experiment.ts';
import { badRequest, HttpError } from '../shared/http-error.ts';
import type { AggregatorStats } from './aggregator-stats.ts';
import { experimentStub } from './forward.ts';
import { parseExperimentConfig, refuseUnsafeUrls } from './schema.ts';
import { listExperiments, loadExperiment, saveExperiment } from './store.ts';
import { clearGoalIndex } from './goal-index.ts';
import { log } from '../shared/log.ts';
import { kvOf } from '../shared/bindings.ts';
import { siteOfEnv } from '../sites/site-env.ts';

export async function mustLoad(env: Env, key: string): Promise<Experiment> {
  const e = await loadExperiment(kvOf(env), key);
  if (!e) throw new HttpError(404, 'unknown_experiment', `no experiment named "${key}"`);
  return e;
}

/**
 * Hands the new config to the experiment's aggregator, which takes it only if it still holds
 * version `from` (service writes race: aggregator.ts `commit`), then saves it to KV: a new
 * version and the current copy. Also on no-ops (`changed` false), so repeating a request whose
 * push failed repairs it. When the aggregator holds a newer version than the caller built
 * from (another admin's write, or a KV save that failed after the aggregator took it), KV is
 * brought up to it and the caller is told to reload.
 */
async function commit(env: Env, e: Experiment, from: number | null, changed: boolean): Promise<Experiment> {
  const stub = experimentStub(env, e.key);
  let r: { ok: boolean; holds: Experiment };
  try {
    r = (await stub.commit(e, from, siteOfEnv(env))) as typeof r;
  } catch (err) {
    log.error('experiment aggregator unreachable', { key: e.key, error: String(err) });
    throw new HttpError(
      503,
      'aggregator_unavailable',
      'the live aggregator did not answer; the change may or may not have been applied: reload the experiment and repeat if needed',
    );
  }
  const held = r.holds;
  if (!r.ok) {
    // KV lags the aggregator (another admin's write, or a save that failed): bring it up first,
    // unless a newer save has landed meanwhile (never move KV back)
    if (held.version > (from ?? 0)) {
      const stored = await loadExperiment(kvOf(env), e.key).catch(() => null);
      if (stored === null || stored.version < held.version) await saveExperiment(kvOf(env), held).catch(() => {});
    }
    if (from === null) throw new HttpError(409, 'experiment_exists', `an experiment named "${e.key}" exists`, 'key');
    throw new HttpError(
      409,
      'conflict',
      `the experiment changed while this request was made (it is at version ${held.version}); reload it and repeat`,
    );
  }
  if (!changed && JSON.stringify(held) === JSON.stringify(e)) return e; // a no-op: KV has it
  try {
    await saveExperiment(kvOf(env), held);
    clearGoalIndex(); // this isolate's log sink sees the test's goals at once
  } catch (err) {
    log.error('experiment not saved to KV', { key: e.key, error: String(err) });
    throw new HttpError(503, 'store_unavailable', 'the live test has the change but the store does not; repeat the request');
  }
  return held;
}

/** `by`: who asks (the admin token's label), for the audit log. */
export async function createExperiment(env: Env, raw: unknown, by?: string): Promise<Experiment> {
  const config = parseExperimentConfig(raw);
  refuseUnsafeUrls(config);
  if (await loadExperiment(kvOf(env), config.key))
    throw new HttpError(409, 'experiment_exists', `an experiment named "${config.key}" exists`, 'key');
  return commit(env, newExperiment(config, Date.now(), { by }), null, true);
}

export async function updateExperiment(env: Env, key: string, raw: unknown, by?: string): Promise<Experiment> {
  const current = await mustLoad(env, key);
  const config = parseExperimentConfig({ key, ...(raw as object) });
  refuseUnsafeUrls(config);
  const ok = editable(current, config);
  if (!ok.ok) throw new HttpError(409, 'not_editable', ok.message, ok.field);
  const now = Date.now();
  const next: Experiment = {
    ...current,
    ...config,
    version: current.version + 1,
    updatedAt: now,
    history: withAudit(current, now, 'edit', current.status, { by, detail: describeChanges(current, config) }),
  };
  return commit(env, next, current.version, true);
}

/** `arm`: the winner of a stop, or the arm of `pause-arm` / `resume-arm`; `by`: who asks, for the audit log. */
export async function applyAction(
  env: Env,
  key: string,
  action: Action,
  arm?: string,
  by?: string,
): Promise<{ experiment: Experiment; changed: boolean }> {
  let winner = arm;
  const current = await mustLoad(env, key);
  if (action === 'stop' && winner === undefined && current.status !== 'stopped') {
    // No winner named: the arm most likely to be best right now.
    let report: ExperimentReport;
    try {
      report = await experimentReport(env, current);
    } catch (err) {
      log.error('experiment aggregator unreachable', { key, error: String(err) });
      throw new HttpError(
        503,
        'aggregator_unavailable',
        'the live aggregator did not answer, so no winner could be picked; name one, or repeat',
      );
    }
    winner = report.readOut.leader?.arm ?? current.control;
  }
  const r = transition(current, action, Date.now(), winner, { by });
  if (!r.ok) {
    if (r.reason === 'unknownArm') throw badRequest(r.message, action === 'stop' ? 'winner' : 'arm');
    throw new HttpError(409, 'illegal_transition', r.message);
  }
  await commit(env, r.experiment, current.version, r.changed);
  return { experiment: r.experiment, changed: r.changed };
}

export interface ExperimentReport {
  readonly experiment: Experiment;
  readonly readOut: ReadOut;
  readonly stats: AggregatorStats;
}

export async function experimentReport(env: Env, e: Experiment, now = Date.now()): Promise<ExperimentReport> {
  const stats = await experimentStub(env, e.key).stats();
  const aligned = stats.arms.join() === e.arms.map((a) => a.key).join();
  const last = stats.history.at(-1);
  const out = readOut({
    experiment: e,
    now,
    impressions: aligned ? stats.impressions : [],
    conversions: aligned ? stats.conversions : [],
    live: aligned ? stats.live : null,
    sequential: aligned ? stats.sequential : null,
    allocation: aligned && last ? last.allocation : null,
    evicted: { pendingExposures: stats.evicted.pending, parkedOutcomes: stats.evicted.early },
  });
  return { experiment: e, readOut: out, stats };
}

/**
 * Every test with its read-out, for the list: live ones from their aggregators, in parallel;
 * archived ones, and any whose aggregator does not answer, without (the list still shows them).
 */
export async function experimentSummaries(env: Env): Promise<{ experiment: Experiment; readOut: ReadOut | null }[]> {
  const all = (await listExperiments(kvOf(env))).sort((a, b) => b.updatedAt - a.updatedAt);
  const now = Date.now();
  return Promise.all(
    all.map(async (experiment) => {
      if (experiment.status === 'archived') return { experiment, readOut: null };
      try {
        return { experiment, readOut: (await experimentReport(env, experiment, now)).readOut };
      } catch (err) {
        log.error('experiment aggregator unreachable', { key: experiment.key, error: String(err) });
        return { experiment, readOut: null };
      }
    }),
  );
}
