/**
 * Admin API for bandit tests (bearer token): create, edit, launch, pause, resume, stop with a
 * winner, archive, re-randomize, list, get, versions and results (JSON or CSV). Every write
 * bumps the config version in KV and reconfigures the experiment's Durable Object.
 */
import { Hono } from 'hono';
import * as z from 'zod/mini';
import { computeResults, resultsCsv, type Results } from '../../core/bandits/results.ts';
import { ACTIONS, editable, newExperiment, transition, type Action, type Experiment } from '../../core/experiments/experiment.ts';
import { requireAdmin } from '../admin-auth.ts';
import { parseJson, readBodyText, validate } from '../body.ts';
import { badRequest, HttpError } from '../http-error.ts';
import type { AppContext, AppEnv } from '../types.ts';
import type { AggregatorStats } from './aggregator.ts';
import { experimentStub } from './forward.ts';
import { parseExperimentConfig } from './schema.ts';
import { listExperiments, listVersions, loadExperiment, saveExperiment, versionKey } from './store.ts';

const BODY_BYTES = 64 * 1024;
const KEY = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function keyParam(c: AppContext): string {
  const key = c.req.param('key') ?? '';
  if (!KEY.test(key)) throw badRequest('key: lower-case letters, digits, "_" or "-", at most 64', 'key');
  return key;
}

async function mustLoad(c: AppContext, key: string): Promise<Experiment> {
  const e = await loadExperiment(c.env.MODELS, key);
  if (!e) throw new HttpError(404, 'unknown_experiment', `no experiment named "${key}"`);
  return e;
}

/** Persists and pushes the config to the aggregator (also on no-ops, so a retry repairs a failed push). */
async function commit(c: AppContext, e: Experiment, changed: boolean): Promise<void> {
  if (changed) await saveExperiment(c.env.MODELS, e);
  try {
    await experimentStub(c.env, e.key).configure(e);
  } catch (err) {
    console.error(JSON.stringify({ msg: 'experiment aggregator unreachable', key: e.key, error: String(err) }));
    throw new HttpError(503, 'aggregator_unavailable', 'saved, but the live aggregator could not be updated; repeat the request');
  }
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
  const results = computeResults(e.arms.map((a) => a.key), counts, Math.max(0, e.arms.findIndex((a) => a.key === e.control)));
  return { experiment: e, results, stats };
}

const StopBody = z.object({ winner: z.optional(z.string()) });

export const experimentAdminRoutes = new Hono<AppEnv>()
  .use('/admin/experiments', requireAdmin)
  .use('/admin/experiments/*', requireAdmin)
  .post('/admin/experiments', async (c) => {
    const config = parseExperimentConfig(parseJson(await readBodyText(c.req.raw, BODY_BYTES)));
    if (await loadExperiment(c.env.MODELS, config.key)) throw new HttpError(409, 'experiment_exists', `an experiment named "${config.key}" exists`, 'key');
    const e = newExperiment(config, Date.now());
    await commit(c, e, true);
    return c.json(e, 201);
  })
  .get('/admin/experiments', async (c) => {
    const all = await listExperiments(c.env.MODELS);
    const status = c.req.query('status');
    return c.json({
      experiments: all.filter((e) => !status || e.status === status).map((e) => ({
        key: e.key, name: e.name, status: e.status, version: e.version, arms: e.arms.map((a) => a.key), algorithm: e.algorithm.name, updatedAt: e.updatedAt, winner: e.winner,
      })),
    });
  })
  .get('/admin/experiments/:key', async (c) => c.json(await mustLoad(c, keyParam(c))))
  .put('/admin/experiments/:key', async (c) => {
    const key = keyParam(c);
    const current = await mustLoad(c, key);
    const raw = parseJson(await readBodyText(c.req.raw, BODY_BYTES));
    const config = parseExperimentConfig({ key, ...(raw as object) });
    const ok = editable(current, config);
    if (!ok.ok) throw new HttpError(409, 'not_editable', ok.message, ok.field);
    const now = Date.now();
    const next: Experiment = {
      ...current, ...config, version: current.version + 1, updatedAt: now,
      history: [...current.history, { at: now, action: 'edit', status: current.status }].slice(-100),
    };
    await commit(c, next, true);
    return c.json(next);
  })
  .get('/admin/experiments/:key/versions', async (c) => {
    const key = keyParam(c);
    await mustLoad(c, key);
    return c.json({ key, versions: await listVersions(c.env.MODELS, key) });
  })
  .get('/admin/experiments/:key/versions/:version', async (c) => {
    const key = keyParam(c);
    const n = Number(c.req.param('version'));
    if (!Number.isInteger(n) || n < 1) throw badRequest('version: a positive integer', 'version');
    const e = await c.env.MODELS.get(versionKey(key, n), 'json');
    if (!e) throw new HttpError(404, 'unknown_version', `experiment "${key}" has no version ${n}`);
    return c.json(e);
  })
  .get('/admin/experiments/:key/results', async (c) => {
    const report = await experimentReport(c.env, await mustLoad(c, keyParam(c)));
    if (c.req.query('format') === 'csv') {
      c.header('content-type', 'text/csv; charset=utf-8');
      c.header('content-disposition', `attachment; filename="${report.experiment.key}-results.csv"`);
      return c.body(resultsCsv(report.results));
    }
    const e = report.experiment;
    const last = report.stats.history.at(-1);
    return c.json({
      key: e.key, status: e.status, version: e.version, algorithm: e.algorithm, winner: e.winner, ...report.results,
      allocation: last ? Object.fromEntries(e.arms.map((a, i) => [a.key, last.allocation[i]])) : null,
      snapshot: report.stats.snapshot, pendingExposures: report.stats.pending,
      ...(c.req.query('history') === '1' ? { history: report.stats.history } : {}),
    });
  })
  .post('/admin/experiments/:key/:action', async (c) => {
    const key = keyParam(c);
    const action = c.req.param('action') as Action;
    if (!ACTIONS.includes(action)) throw new HttpError(404, 'not_found', `unknown action "${action}"; one of ${ACTIONS.join(', ')}`);
    const current = await mustLoad(c, key);
    let winner: string | undefined;
    if (action === 'stop') {
      const text = await readBodyText(c.req.raw, 1024);
      winner = text.trim() === '' ? undefined : validate(StopBody, parseJson(text)).winner;
      if (winner === undefined && current.status !== 'stopped') {
        // No winner named: the arm most likely to be best right now.
        winner = (await experimentReport(c.env, current)).results.arms.reduce((a, b) => (b.probabilityBest > a.probabilityBest ? b : a)).arm;
      }
    }
    const r = transition(current, action, Date.now(), winner);
    if (!r.ok) {
      if (r.reason === 'unknownArm') throw badRequest(r.message, 'winner');
      throw new HttpError(409, 'illegal_transition', r.message);
    }
    await commit(c, r.experiment, r.changed);
    return c.json({ ...r.experiment, changed: r.changed });
  });
