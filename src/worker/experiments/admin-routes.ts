/**
 * Admin API for bandit tests (bearer token): create, edit, launch, pause, resume, stop with a
 * winner, archive, re-randomize, list, get, versions and results (JSON or CSV). Every write
 * bumps the config version, through the experiment's Durable Object and then KV (service.ts).
 */
import { Hono } from 'hono';
import * as z from 'zod/mini';
import { resultsCsv } from '../../core/bandits/results.ts';
import { ACTIONS, EXPERIMENT_KEY, type Action } from '../../core/experiments/experiment.ts';
import { requireAdmin } from '../shared/bearer-auth.ts';
import { parseJson, readBodyText, validate } from '../shared/body.ts';
import { badRequest, HttpError } from '../shared/http-error.ts';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { applyAction, createExperiment, experimentReport, mustLoad, updateExperiment } from './service.ts';
import { experimentVersionKey } from '../../core/store-keys.ts';
import { listExperiments, listVersions } from './store.ts';
import { kvOf } from '../shared/bindings.ts';

const BODY_BYTES = 64 * 1024;

function keyParam(c: AppContext): string {
  const key = c.req.param('key') ?? '';
  if (!EXPERIMENT_KEY.test(key)) throw badRequest('key: lower-case letters, digits, "_" or "-", at most 64', 'key');
  return key;
}

const StopBody = z.object({ winner: z.optional(z.string()) });
const ArmBody = z.object({ arm: z.string() });

export const experimentAdminRoutes = new Hono<AppEnv>()
  .use('/admin/experiments', requireAdmin)
  .use('/admin/experiments/*', requireAdmin)
  .post('/admin/experiments', async (c) =>
    c.json(await createExperiment(c.env, parseJson(await readBodyText(c.req.raw, BODY_BYTES)), c.get('admin')), 201),
  )
  .get('/admin/experiments', async (c) => {
    const all = await listExperiments(kvOf(c.env));
    const status = c.req.query('status');
    return c.json({
      experiments: all
        .filter((e) => !status || e.status === status)
        .map((e) => ({
          key: e.key,
          name: e.name,
          status: e.status,
          version: e.version,
          arms: e.arms.map((a) => a.key),
          algorithm: e.algorithm.name,
          updatedAt: e.updatedAt,
          winner: e.winner,
        })),
    });
  })
  .get('/admin/experiments/:key', async (c) => c.json(await mustLoad(c.env, keyParam(c))))
  .put('/admin/experiments/:key', async (c) =>
    c.json(await updateExperiment(c.env, keyParam(c), parseJson(await readBodyText(c.req.raw, BODY_BYTES)), c.get('admin'))),
  )
  // the audit log: who (the admin token's label, or `guardrail`) changed what, and when; newest first
  .get('/admin/experiments/:key/audit', async (c) => {
    const e = await mustLoad(c.env, keyParam(c));
    return c.json({ key: e.key, version: e.version, entries: [...e.history].reverse() });
  })
  .get('/admin/experiments/:key/versions', async (c) => {
    const key = keyParam(c);
    await mustLoad(c.env, key);
    return c.json({ key, versions: await listVersions(kvOf(c.env), key) });
  })
  .get('/admin/experiments/:key/versions/:version', async (c) => {
    const key = keyParam(c);
    const n = Number(c.req.param('version'));
    if (!Number.isInteger(n) || n < 1) throw badRequest('version: a positive integer', 'version');
    const e = await kvOf(c.env).get(experimentVersionKey(key, n), 'json');
    if (!e) throw new HttpError(404, 'unknown_version', `experiment "${key}" has no version ${n}`);
    return c.json(e);
  })
  .get('/admin/experiments/:key/results', async (c) => {
    const report = await experimentReport(c.env, await mustLoad(c.env, keyParam(c)));
    if (c.req.query('format') === 'csv') {
      c.header('content-type', 'text/csv; charset=utf-8');
      c.header('content-disposition', `attachment; filename="${report.experiment.key}-results.csv"`);
      return c.body(resultsCsv(report.readOut.bandit));
    }
    const e = report.experiment;
    const r = report.readOut;
    const last = report.stats.history.at(-1);
    const sequential = r.sequential ? { ...r.sequential, memory: undefined } : null;
    return c.json({
      key: e.key,
      status: e.status,
      version: e.version,
      algorithm: e.algorithm,
      winner: e.winner,
      ...r.results,
      allocation: last ? Object.fromEntries(e.arms.map((a, i) => [a.key, last.allocation[i]])) : null,
      snapshot: report.stats.snapshot,
      pendingExposures: report.stats.pending,
      parkedOutcomes: report.stats.early,
      // rows dropped to hold the aggregator's caps (row-caps.ts): non-zero means conversions may be undercounted
      evicted: { pendingExposures: report.stats.evicted.pending, parkedOutcomes: report.stats.evicted.early },
      // beside today's fields (docs/experiments.md, "How results are computed")
      pausedArms: e.pausedArms ?? [],
      noData: r.noData,
      leader: r.leader,
      daysRunning: r.daysRunning,
      sequential,
      health: r.health,
      guardrails: r.guardrails,
      segments: r.segments,
      timeToDecision: r.timeToDecision,
      ...(c.req.query('history') === '1' ? { history: report.stats.history } : {}),
    });
  })
  .post('/admin/experiments/:key/:action', async (c) => {
    const key = keyParam(c);
    const action = c.req.param('action') as Action;
    if (!ACTIONS.includes(action)) throw new HttpError(404, 'not_found', `unknown action "${action}"; one of ${ACTIONS.join(', ')}`);
    let arm: string | undefined;
    if (action === 'stop') {
      const text = await readBodyText(c.req.raw, 1024);
      arm = text.trim() === '' ? undefined : validate(StopBody, parseJson(text)).winner;
    } else if (action === 'pause-arm' || action === 'resume-arm') {
      arm = validate(ArmBody, parseJson(await readBodyText(c.req.raw, 1024))).arm;
    }
    const r = await applyAction(c.env, key, action, arm, c.get('admin'));
    return c.json({ ...r.experiment, changed: r.changed });
  });
