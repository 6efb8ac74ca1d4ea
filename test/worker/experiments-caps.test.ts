// What open endpoints can make an experiment's aggregator keep: pending exposures (from
// /v1/decide) and parked goals (from /v1/events) are capped, oldest out first, and the
// evictions show in the results. The caps are lowered on the test's instance so a few hundred
// rows reach them (the real ones are in row-caps.ts).
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { ExperimentAggregator } from '../../src/worker/experiments/aggregator.ts';
import { forwardToExperiments } from '../../src/worker/experiments/forward.ts';
import { ROW_CAPS, type RowCaps } from '../../src/worker/experiments/row-caps.ts';
import { admin, createAndLaunch, exposure, outcome } from './experiment-helpers.ts';
import { postJson, resetCaches } from './helpers.ts';

beforeEach(resetCaches);

const stubOf = (key: string) => env.EXPERIMENTS.get(env.EXPERIMENTS.idFromName(key));

async function lowerCaps(key: string, caps: RowCaps): Promise<void> {
  await runInDurableObject(stubOf(key), (instance) => {
    instance.caps = caps;
  });
}

/** What the tables hold, straight from SQLite (not the aggregator's own counters). */
function tables(key: string) {
  return runInDurableObject(stubOf(key), (_instance, state) => {
    const sql = state.storage.sql;
    const ids = (table: string) =>
      sql
        .exec<{ id: string }>(`SELECT id FROM ${table} ORDER BY ts, id`)
        .toArray()
        .map((r) => r.id);
    return { pending: ids('pending'), early: ids('early'), bytes: sql.databaseSize };
  });
}

const madeUpClicks = (key: string, from: number, n: number, t: number) =>
  Array.from({ length: n }, (_, i) =>
    outcome(key, `fake-${from + i}`, `fv${from + i}`, t + from + i, { decisionId: `made-up-${crypto.randomUUID()}` }),
  );

describe('aggregator storage caps', () => {
  it('keeps at most the cap of parked goals, newest kept, however many made-up clicks arrive, and says so in the results', async () => {
    await createAndLaunch('capped-early');
    await lowerCaps('capped-early', { pending: ROW_CAPS.pending, early: 100 });
    const t = Date.now() - 60_000;
    await forwardToExperiments(env, madeUpClicks('capped-early', 0, 100, t));
    const full = await tables('capped-early');
    expect(full.early).toHaveLength(100);
    for (let from = 100; from < 2100; from += 500) await forwardToExperiments(env, madeUpClicks('capped-early', from, 500, t));
    const after = await tables('capped-early');
    expect(after.early).toEqual(Array.from({ length: 100 }, (_, i) => `fake-${2000 + i}`));
    // deleted pages are reused: twenty times the cap in made-up clicks leaves the database the size of a full cap
    expect(after.bytes).toBeLessThanOrEqual(full.bytes * 1.5);

    const results = (await (await admin('/admin/experiments/capped-early/results', undefined, 'GET')).json()) as Record<string, unknown>;
    expect(results).toMatchObject({ parkedOutcomes: 100, pendingExposures: 0, evicted: { parkedOutcomes: 2000, pendingExposures: 0 } });
    // the existing shape is untouched
    expect(results).toHaveProperty('arms');
    expect(results).toHaveProperty('recommendation');
    // the counts survive the object's restart (eviction alone, with no exposure or conversion, persists them)
    const revived = await runInDurableObject(stubOf('capped-early'), async (_instance, state) => {
      const fresh = new ExperimentAggregator(state, env);
      await state.blockConcurrencyWhile(async () => {});
      return fresh.stats();
    });
    expect(revived).toMatchObject({ early: 100, evicted: { pending: 0, early: 2000 } });
  });

  it('a stopped test still lets its parked goals expire with the window (it has no heartbeat to do it)', async () => {
    await createAndLaunch('stopped-early', { attributionWindowSeconds: 1 });
    expect((await admin('/admin/experiments/stopped-early/stop', { winner: 'a' })).status).toBe(200);
    await runInDurableObject(stubOf('stopped-early'), (_instance, state) => state.storage.deleteAlarm());
    await forwardToExperiments(env, madeUpClicks('stopped-early', 0, 20, Date.now() - 60_000));
    expect((await tables('stopped-early')).early).toHaveLength(20);
    const alarm = await runInDurableObject(stubOf('stopped-early'), (_instance, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(await runDurableObjectAlarm(stubOf('stopped-early'))).toBe(true);
    expect((await tables('stopped-early')).early).toEqual([]);
    expect((await stubOf('stopped-early').stats()).early).toBe(0);
  });

  it('evicts the oldest pending exposures past the cap: their impressions stay counted, later goals for them no longer convert', async () => {
    await createAndLaunch('capped-pending');
    await lowerCaps('capped-pending', { pending: 50, early: ROW_CAPS.early });
    const t = Date.now() - 60_000;
    const exposures = Array.from({ length: 80 }, (_, i) =>
      exposure('capped-pending', `d${String(i).padStart(3, '0')}`, `v${i}`, i % 2 ? 'b' : 'a', t + i),
    );
    await forwardToExperiments(env, exposures.slice(0, 40));
    await forwardToExperiments(env, exposures.slice(40));
    const held = await tables('capped-pending');
    expect(held.pending).toEqual(exposures.slice(30).map((e) => e.id));
    await forwardToExperiments(env, [
      outcome('capped-pending', 'o-old', 'v0', t + 100, { decisionId: 'd000' }), // evicted: parked, not counted
      outcome('capped-pending', 'o-new', 'v79', t + 100, { decisionId: 'd079' }),
    ]);
    const stats = await stubOf('capped-pending').stats();
    expect(stats.impressions).toEqual([40, 40]);
    expect(stats.conversions).toEqual([0, 1]);
    expect(stats).toMatchObject({ pending: 50, early: 1, evicted: { pending: 30, early: 0 } });
    // the counters the results report agree with the tables after the window closes too
    await runInDurableObject(stubOf('capped-pending'), async (instance) => {
      (instance as unknown as { exp: { attributionWindowSeconds: number } }).exp.attributionWindowSeconds = 1;
      await instance.alarm();
    });
    expect(await tables('capped-pending')).toMatchObject({ pending: [], early: [] });
    expect(await stubOf('capped-pending').stats()).toMatchObject({ pending: 0, early: 0, evicted: { pending: 30, early: 0 } });
  });

  it('a contextual test learns y = 0 for an exposure evicted before it converted, as when its window closes', async () => {
    await createAndLaunch('capped-ctx', { algorithm: { name: 'linear-thompson', floor: 0.01, bits: 8 } });
    await lowerCaps('capped-ctx', { pending: 5, early: ROW_CAPS.early });
    const precision = () =>
      runInDurableObject(stubOf('capped-ctx'), (instance) =>
        Array.from((instance as unknown as { state: { model: { precision: Float32Array } } }).state.model.precision).reduce(
          (s, x) => s + x,
          0,
        ),
      );
    const prior = await precision();
    const t = Date.now() - 60_000;
    await forwardToExperiments(
      env,
      Array.from({ length: 5 }, (_, i) => exposure('capped-ctx', `c${i}`, `cv${i}`, 'a', t + i)),
    );
    expect(await precision()).toBe(prior); // nothing learned while the windows are open
    await forwardToExperiments(
      env,
      Array.from({ length: 3 }, (_, i) => exposure('capped-ctx', `c${5 + i}`, `cv${5 + i}`, 'a', t + 5 + i)),
    );
    expect(await precision()).toBeGreaterThan(prior);
    expect((await stubOf('capped-ctx').stats()).evicted).toEqual({ pending: 3, early: 0 });
  });

  it('holds the cap for made-up clicks arriving through POST /v1/events, the queue and its consumer', async () => {
    await createAndLaunch('capped-pipe');
    await lowerCaps('capped-pipe', { pending: ROW_CAPS.pending, early: 40 });
    for (let b = 0; b < 3; b++) {
      const batch = Array.from({ length: 50 }, (_, i) => ({
        id: `pipe-fake-${b}-${i}`,
        name: 'click',
        experiment: 'capped-pipe',
        decisionId: crypto.randomUUID(),
        visitorId: `fake-visitor-${b}-${i}`,
      }));
      expect((await (await postJson('/v1/events', batch)).json<{ accepted: number }>()).accepted).toBe(50);
    }
    const until = Date.now() + 15_000;
    let results: { parkedOutcomes?: number; evicted?: { parkedOutcomes: number } } = {};
    while (Date.now() < until) {
      results = await (await admin('/admin/experiments/capped-pipe/results', undefined, 'GET')).json();
      if ((results.evicted?.parkedOutcomes ?? 0) + (results.parkedOutcomes ?? 0) >= 150) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(results).toMatchObject({ parkedOutcomes: 40, evicted: { parkedOutcomes: 110 } });
  }, 30_000);
});
