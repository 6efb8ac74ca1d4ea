/**
 * What the admin API, the admin page and any future caller do to experiments: create, edit,
 * transition, report. Each write goes to the experiment's Durable Object, which takes it only
 * if no other write got there first, then to KV (a new version); failures are HttpErrors the
 * one error boundary answers.
 */
import { computeResults, type Results } from '../../core/bandits/results.ts';
import { editable, newExperiment, transition, type Action, type Experiment } from '../../core/experiments/experiment.ts';
import { badRequest, HttpError } from '../shared/http-error.ts';
import type { AggregatorStats } from './aggregator.ts';
import { experimentStub } from './forward.ts';
import { parseExperimentConfig, refuseUnsafeUrls } from './schema.ts';
import { loadExperiment, saveExperiment } from './store.ts';
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
  } catch (err) {
    log.error('experiment not saved to KV', { key: e.key, error: String(err) });
    throw new HttpError(503, 'store_unavailable', 'the live test has the change but the store does not; repeat the request');
  }
  return held;
}

export async function createExperiment(env: Env, raw: unknown): Promise<Experiment> {
  const config = parseExperimentConfig(raw);
  refuseUnsafeUrls(config);
  if (await loadExperiment(kvOf(env), config.key))
    throw new HttpError(409, 'experiment_exists', `an experiment named "${config.key}" exists`, 'key');
  return commit(env, newExperiment(config, Date.now()), null, true);
}

export async function updateExperiment(env: Env, key: string, raw: unknown): Promise<Experiment> {
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
    history: [...current.history, { at: now, action: 'edit', status: current.status }].slice(-100),
  };
  return commit(env, next, current.version, true);
}

export async function applyAction(
  env: Env,
  key: string,
  action: Action,
  winner?: string,
): Promise<{ experiment: Experiment; changed: boolean }> {
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
    winner = report.results.arms.reduce((a, b) => (b.probabilityBest > a.probabilityBest ? b : a)).arm;
  }
  const r = transition(current, action, Date.now(), winner);
  if (!r.ok) {
    if (r.reason === 'unknownArm') throw badRequest(r.message, 'winner');
    throw new HttpError(409, 'illegal_transition', r.message);
  }
  await commit(env, r.experiment, current.version, r.changed);
  return { experiment: r.experiment, changed: r.changed };
}

export interface ExperimentReport {
  readonly experiment: Experiment;
  readonly results: Results;
  readonly stats: AggregatorStats;
}

export async function experimentReport(env: Env, e: Experiment): Promise<ExperimentReport> {
  const stats = await experimentStub(env, e.key).stats();
  const k = e.arms.length;
  const aligned = stats.arms.join() === e.arms.map((a) => a.key).join();
  const counts = {
    impressions: aligned ? Float64Array.from(stats.impressions) : new Float64Array(k),
    conversions: aligned ? Float64Array.from(stats.conversions) : new Float64Array(k),
  };
  const results = computeResults(
    e.arms.map((a) => a.key),
    counts,
    Math.max(
      0,
      e.arms.findIndex((a) => a.key === e.control),
    ),
  );
  return { experiment: e, results, stats };
}
