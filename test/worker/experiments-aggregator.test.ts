import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../../src/core/decision-record.ts';
import { forwardToExperiments } from '../../src/worker/experiments/forward.ts';
import { admin, createAndLaunch, exposure, outcome } from './experiment-helpers.ts';
import { DESKTOP, IPHONE, postJson, resetCaches } from './helpers.ts';

beforeEach(resetCaches);

const onDevice = (r: DecisionRecord, device: string, os: string, browser: string): DecisionRecord => ({
  ...r,
  context: { ...r.context, device, os, browser },
});

describe('contextual (linear Thompson) test', () => {
  it('learns per-visitor allocations from exposures and conversions, y = 0 when windows close', async () => {
    await createAndLaunch('ctx', { algorithm: { name: 'linear-thompson', floor: 0.01, bits: 12 }, attributionWindowSeconds: 1 });
    const t = Date.now() - 5000; // windows already closed at the first alarm: the non-conversions are learned too
    const records = [];
    for (let i = 0; i < 120; i++) {
      // mobile visitors click arm a, desktop visitors click arm b; the other arm never converts
      const mobileArm = i % 2 === 0 ? 'a' : 'b';
      const desktopArm = i % 2 === 0 ? 'b' : 'a';
      records.push(onDevice(exposure('ctx', `m${i}`, `mv${i}`, mobileArm, t), 'mobile', 'ios', 'safari'));
      records.push(onDevice(exposure('ctx', `d${i}`, `dv${i}`, desktopArm, t), 'desktop', 'windows', 'chrome'));
      if (mobileArm === 'a' && i % 4 === 0) records.push(outcome('ctx', `mo${i}`, `mv${i}`, t + 100, { decisionId: `m${i}` }));
      if (desktopArm === 'b' && i % 4 === 0) records.push(outcome('ctx', `do${i}`, `dv${i}`, t + 100, { decisionId: `d${i}` }));
    }
    await forwardToExperiments(env, records);
    const prob = async (ua: string, visitor: string) => {
      const res = await postJson('/v1/decide', { visitorId: visitor, slots: [{ id: 'hero', experiment: 'ctx' }] }, { 'user-agent': ua });
      const d = ((await res.json()) as { decisions: Array<{ variant: string; propensity: number; fallback?: string }> }).decisions[0]!;
      return d.variant === 'a' ? d.propensity : 1 - d.propensity; // two arms: P(a)
    };
    // Wait for a snapshot that carries the learned model (stats show every pending window closed).
    const until = Date.now() + 10_000;
    for (;;) {
      const r = (await (await admin('/admin/experiments/ctx/results', undefined, 'GET')).json()) as {
        pendingExposures: number;
        snapshot: { version: string } | null;
      };
      if (r.pendingExposures === 0 && r.snapshot && Number(r.snapshot.version.split('.')[1]) >= 2) break;
      if (Date.now() > until) throw new Error('no learned snapshot');
      await new Promise((res) => setTimeout(res, 200));
    }
    resetCaches();
    const mobileA = await prob(IPHONE, 'ctx-visitor-mobile-1');
    const desktopA = await prob(DESKTOP, 'ctx-visitor-desktop-1');
    expect(mobileA).toBeGreaterThan(0.7);
    expect(desktopA).toBeLessThan(0.3);

    // A fresh instance over the same storage (what an evicted object wakes up as) has the same posterior.
    const { runInDurableObject } = await import('cloudflare:test');
    const { ExperimentAggregator } = await import('../../src/worker/experiments/aggregator.ts');
    const stub = env.EXPERIMENTS.get(env.EXPERIMENTS.idFromName('ctx'));
    const same = await runInDurableObject(stub, async (instance, state) => {
      const revived = new ExperimentAggregator(state, env);
      await state.blockConcurrencyWhile(async () => {}); // the constructor's load has run
      type Inner = { state: { model: { mean: Float32Array; precision: Float32Array }; counts: { impressions: Float64Array } } };
      const a = (instance as unknown as Inner).state;
      const b = (revived as unknown as Inner).state;
      return (
        a.model.mean.length > 0 &&
        a.model.mean.some((x) => x !== 0) &&
        a.model.mean.every((x, i) => x === b.model.mean[i]) &&
        a.model.precision.every((x, i) => x === b.model.precision[i]) &&
        Array.from(a.counts.impressions).join() === Array.from(b.counts.impressions).join()
      );
    });
    expect(same).toBe(true);
  }, 30_000);
});

describe('aggregator attribution', () => {
  it('counts each arm a visitor was shown, and credits a goal to the arm its decision served', async () => {
    await createAndLaunch('multi', { sticky: false });
    const t = Date.now();
    await forwardToExperiments(env, [
      exposure('multi', 'm-d1', 'mv', 'b', t),
      exposure('multi', 'm-d2', 'mv', 'a', t + 1), // another arm: a trial of its own
      exposure('multi', 'm-d3', 'mv', 'b', t + 2), // b again within the window: the same trial as m-d1
      outcome('multi', 'm-o1', 'mv', t + 3, { decisionId: 'm-d2' }),
      outcome('multi', 'm-o2', 'mv', t + 4, { decisionId: 'm-d3', variant: 'b' }), // m-d3 was merged: found by visitor and arm
    ]);
    const stats = await env.EXPERIMENTS.get(env.EXPERIMENTS.idFromName('multi')).stats();
    expect(stats.arms).toEqual(['a', 'b']);
    expect(stats.impressions).toEqual([1, 1]);
    expect(stats.conversions).toEqual([1, 1]);
  });
});

describe('aggregator housekeeping', () => {
  it('a launched test keeps a heartbeat alarm, and republishes its snapshot when it fires', async () => {
    const { runDurableObjectAlarm, runInDurableObject } = await import('cloudflare:test');
    await createAndLaunch('beat');
    const stub = env.EXPERIMENTS.get(env.EXPERIMENTS.idFromName('beat'));
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm! - Date.now()).toBeGreaterThan(10 * 60_000); // the 20-minute heartbeat, nothing sooner
    const before = (await stub.stats()).snapshot!;
    // Pretend the heartbeat is due: age the last publish, then fire the alarm.
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { state: { published: { at: number } } }).state.published.at -= 21 * 60_000;
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = (await stub.stats()).snapshot!;
    expect(after.version).not.toBe(before.version);
    const manifest = (await env.KV.get('manifest/exp.beat', 'json')) as { active: string };
    expect(manifest.active).toBe(after.version);
  });
});
