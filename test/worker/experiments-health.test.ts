// What the aggregator keeps for a test's health and read-outs (live-tables.ts), and what the
// results answer from it: SRM from fresh draws, the always-valid read-out with its memory, segment
// cells, guardrail pauses with their audit lines, and the health warnings.
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../../src/core/decision-record.ts';
import { compareAlwaysValid } from '../../src/core/experiments/sequential.ts';
import { forwardToExperiments } from '../../src/worker/experiments/forward.ts';
import { admin, createAndLaunch, eventually, exposure, loggedRecords, outcome, results } from './experiment-helpers.ts';
import { postJson, resetCaches } from './helpers.ts';

beforeEach(resetCaches);

const stub = (key: string) => env.EXPERIMENTS.get(env.EXPERIMENTS.idFromName(key));

/** `n` exposures of `arm`, each a new visitor, `extra` merged into each record. */
function exposures(key: string, arm: string, n: number, from: number, extra: Partial<DecisionRecord> = {}): DecisionRecord[] {
  const t = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    ...exposure(key, `${key}-${arm}-${from + i}`, `${key}-v-${arm}-${from + i}`, arm, t),
    ...extra,
  }));
}

describe('sample-ratio mismatch', () => {
  it('flags exposures that do not match the logged allocation, and passes ones that do', async () => {
    await createAndLaunch('srm-bad');
    // 50/50 draws by their logged probabilities, but 640 came back as a and 360 as b
    await forwardToExperiments(env, [...exposures('srm-bad', 'a', 640, 0), ...exposures('srm-bad', 'b', 360, 0)]);
    const bad = await results('srm-bad');
    expect(bad.health.srm.verdict).toBe('mismatch');
    expect(bad.health.srm.pValue).toBeLessThan(0.001);
    expect(bad.health.level).toBe('error');
    expect(bad.health.verdict).toMatch(/sample ratio mismatch/);

    await createAndLaunch('srm-ok');
    // balanced fresh draws; sticky repeats of a (another 300 views of a by the same visitors)
    // re-serve earlier draws and must not count as draws
    const fresh = [...exposures('srm-ok', 'a', 500, 0), ...exposures('srm-ok', 'b', 500, 0)];
    const repeats = fresh.slice(0, 300).map((r) => ({ ...r, id: `${r.id}-again`, sticky: true as const }));
    await forwardToExperiments(env, [...fresh, ...repeats]);
    const ok = await results('srm-ok');
    expect(ok.health.srm.verdict).toBe('ok');
    expect(ok.health.srm.observed).toEqual([500, 500]);
    expect(ok.health.srm.expected).toEqual([500, 500]);
  });
});

describe('fixed split, always valid', () => {
  it('reaches its decision and keeps it at later looks, with the memory kept by the aggregator', async () => {
    await createAndLaunch('seq', { algorithm: { name: 'fixed', floor: 0 } });
    const first = [...exposures('seq', 'a', 2000, 0), ...exposures('seq', 'b', 2000, 0)];
    const conv = (arm: string, n: number, from: number) =>
      Array.from({ length: n }, (_, i) => outcome('seq', `seq-o-${arm}-${from + i}`, `seq-v-${arm}-${from + i}`, Date.now() + 10));
    await forwardToExperiments(env, [...first, ...conv('a', 100, 0), ...conv('b', 200, 0)]);
    const decided = await results('seq');
    expect(decided.sequential).toMatchObject({ method: 'msprt', decision: 'significant', winner: 'b' });
    expect(decided.sequential.memory).toBeUndefined(); // the aggregator's, not the API's
    expect(decided.recommendation).toBe('winner_found');
    expect(decided.recommendedArm).toBe('b');
    expect(decided.leader.arm).toBe('b');
    expect(decided.arms.map((a: { impressions: number }) => a.impressions)).toEqual([2000, 2000]); // today's shape stays
    // More data where b does worse: on the counts alone the arms no longer differ at this look,
    // but a decision reached is kept (running minimum, intersected intervals)
    await forwardToExperiments(env, [
      ...exposures('seq', 'a', 2000, 2000),
      ...exposures('seq', 'b', 2000, 2000),
      ...conv('a', 150, 2000),
      ...conv('b', 110, 2000),
    ]);
    const later = await results('seq');
    expect(later.arms.map((a: { conversions: number }) => a.conversions)).toEqual([250, 310]);
    const fresh = compareAlwaysValid({ exposures: 4000, conversions: 250 }, { exposures: 4000, conversions: 310 }, 0.05);
    expect(fresh!.pValue).toBeGreaterThan(0.05);
    expect(later.sequential.decision).toBe('significant');
    expect(later.sequential.winner).toBe('b');
    expect(later.sequential.arms[1].difference.low).toBeGreaterThan(0);
  }, 30_000);
});

describe('segment breakdown', () => {
  it('counts exposures and conversions per device, country, new vs returning and segment', async () => {
    await createAndLaunch('seg');
    const mobile = (r: DecisionRecord): DecisionRecord => ({
      ...r,
      context: { ...r.context, device: 'mobile', country: 'FR', visits: 3, segments: ['vip'] },
    });
    await forwardToExperiments(env, [
      ...exposures('seg', 'a', 30, 0).map(mobile),
      ...exposures('seg', 'b', 20, 0),
      outcome('seg', 'seg-o-1', 'seg-v-a-0', Date.now() + 5),
      outcome('seg', 'seg-o-2', 'seg-v-b-0', Date.now() + 5),
    ]);
    const r = await results('seg');
    const cell = (dimension: string, value: string) =>
      (
        r.segments as Array<{
          dimension: string;
          value: string;
          exposures: number;
          arms: Array<{ arm: string; exposures: number; conversions: number }>;
        }>
      ).find((s) => s.dimension === dimension && s.value === value);
    expect(cell('device', 'mobile')!.arms.map((a) => [a.arm, a.exposures, a.conversions])).toEqual([
      ['a', 30, 1],
      ['b', 0, 0],
    ]);
    expect(cell('device', 'desktop')!.arms.map((a) => [a.exposures, a.conversions])).toEqual([
      [0, 0],
      [20, 1],
    ]);
    expect(cell('country', 'FR')!.exposures).toBe(30);
    expect(cell('visitor', 'returning')!.exposures).toBe(30);
    expect(cell('visitor', 'new')!.exposures).toBe(20);
    expect(cell('segment', 'vip')!.exposures).toBe(30);
  });
});

describe('guardrails', () => {
  const three = ['a', 'b', 'c'].map((key) => ({ key, payload: { type: 'text', value: key } }));

  it('pauses the arm that harms a guardrail, and the audit log says why', async () => {
    const { runDurableObjectAlarm } = await import('cloudflare:test');
    await createAndLaunch('guard', {
      arms: three,
      guardrails: [{ goal: 'refund', minExposures: 300 }],
      guardrailCheckSeconds: 1,
    });
    const records = [...exposures('guard', 'a', 400, 0), ...exposures('guard', 'b', 400, 0), ...exposures('guard', 'c', 400, 0)];
    const refunds = (arm: string, n: number) =>
      Array.from({ length: n }, (_, i) =>
        outcome('guard', `guard-r-${arm}-${i}`, `guard-v-${arm}-${i}`, Date.now() + 5, {
          name: 'goal',
          goal: 'refund',
          experiment: 'guard',
        }),
      );
    await forwardToExperiments(env, [...records, ...refunds('a', 20), ...refunds('b', 100), ...refunds('c', 20)]);
    const before = await results('guard');
    expect(before.guardrails.guardrails[0].arms.map((a: { events: number }) => a.events)).toEqual([20, 100, 20]);
    expect(before.guardrails.pauseArms).toEqual(['b']);
    expect(before.pausedArms).toEqual([]); // judged, not acted on until the check runs
    await new Promise((r) => setTimeout(r, 1100));
    expect(await runDurableObjectAlarm(stub('guard'))).toBe(true);
    resetCaches();
    const after = await results('guard');
    expect(after.pausedArms).toEqual(['b']);
    expect(after.status).toBe('running');
    expect(after.health.warnings.some((w: { code: string; message: string }) => w.code === 'guardrail' && /"b"/.test(w.message))).toBe(
      true,
    );
    const audit = (await (await admin('/admin/experiments/guard/audit', undefined, 'GET')).json()) as {
      entries: Array<{ action: string; by?: string; detail?: string }>;
    };
    expect(audit.entries[0]).toMatchObject({ action: 'pause-arm', by: 'guardrail' });
    expect(audit.entries[0]!.detail).toMatch(/guardrail "refund": arm "b" raises its rate to 25\.00 %/);
    // and the decision path no longer serves b
    for (let i = 0; i < 30; i++) {
      const res = await postJson('/v1/decide', { visitorId: `guard-after-${i}`, slots: [{ id: 'hero', experiment: 'guard' }] });
      expect(((await res.json()) as { decisions: Array<{ variant: string }> }).decisions[0]!.variant).not.toBe('b');
    }
  });

  it('pauses the whole test when the guardrail says so', async () => {
    const { runDurableObjectAlarm } = await import('cloudflare:test');
    await createAndLaunch('guard-test', {
      guardrails: [{ goal: 'error', minExposures: 300, onHarm: 'pauseTest' }],
      guardrailCheckSeconds: 1,
    });
    const errors = Array.from({ length: 120 }, (_, i) =>
      outcome('guard-test', `gt-e-${i}`, `guard-test-v-b-${i}`, Date.now() + 5, { name: 'goal', goal: 'error' }),
    );
    await forwardToExperiments(env, [...exposures('guard-test', 'a', 400, 0), ...exposures('guard-test', 'b', 400, 0), ...errors]);
    await new Promise((r) => setTimeout(r, 1100));
    await runDurableObjectAlarm(stub('guard-test'));
    resetCaches();
    const r = await results('guard-test');
    expect(r.status).toBe('paused');
    expect(r.health.warnings.some((w: { message: string }) => /paused by a guardrail/.test(w.message))).toBe(true);
  });
});

describe('health warnings', () => {
  it('warns when exposures come without a profile cookie, goals do not arrive, or an arm fails to render', async () => {
    await createAndLaunch('hw');
    const fails = Array.from({ length: 40 }, (_, i) =>
      outcome('hw', `hw-f-${i}`, `hw-v-b-${i}`, Date.now() + 5, { name: 'render_error', decisionId: `hw-b-${i}`, variant: 'b' }),
    );
    await forwardToExperiments(env, [
      ...exposures('hw', 'a', 300, 0, { noProfile: true }),
      ...exposures('hw', 'b', 300, 0, { noProfile: true }),
      ...fails,
    ]);
    const r = await results('hw');
    const codes = (r.health.warnings as Array<{ code: string }>).map((w) => w.code).sort();
    expect(codes).toEqual(['goalsMissing', 'renderFailures', 'stickinessLost']);
    expect(r.health.warnings.find((w: { code: string }) => w.code === 'renderFailures').message).toMatch(/arm b failed to render 13 %/);
  });

  it('marks an exposure of a known visitor without a profile cookie, and not a new visitor', async () => {
    await createAndLaunch('noprof');
    // a server-side caller naming its visitor, with no cookies: a known visitor, no profile
    await postJson('/v1/decide', { visitorId: 'noprof-known-visitor', slots: [{ id: 'hero', experiment: 'noprof' }] });
    // a browser's first visit: no visitor cookie either, so nothing was lost
    await postJson('/v1/decide', { slots: [{ id: 'hero', experiment: 'noprof' }] });
    const records = await eventually('both exposures in the log', async () => {
      const mine = (await loggedRecords()).filter((r) => r.type === 'decision' && r.experiment === 'noprof') as DecisionRecord[];
      return mine.length >= 2 ? mine : null;
    });
    expect(records.map((r) => r.noProfile ?? false).sort()).toEqual([false, true]);
  });
});

describe('exposure on the viewable impression', () => {
  it('counts a served decision as an exposure only once the snippet says it was seen, or it was clicked', async () => {
    await createAndLaunch('seen', { exposure: 'viewable' });
    const t = Date.now();
    await forwardToExperiments(env, [
      exposure('seen', 'seen-d1', 'seen-v1', 'a', t),
      exposure('seen', 'seen-d2', 'seen-v2', 'b', t),
      exposure('seen', 'seen-d3', 'seen-v3', 'a', t),
      exposure('seen', 'seen-d4', 'seen-v4', 'b', t),
    ]);
    const served = await results('seen');
    expect(served.arms.map((a: { impressions: number }) => a.impressions)).toEqual([0, 0]);
    expect(served.health.srm.observed).toEqual([2, 2]); // the draws count when served
    const { experiment: _, ...unnamed } = outcome('seen', 'seen-i3', 'seen-v3', t + 20, { name: 'impression', decisionId: 'seen-d3' });
    await forwardToExperiments(env, [
      outcome('seen', 'seen-i1', 'seen-v1', t + 10, { name: 'impression', decisionId: 'seen-d1' }),
      outcome('seen', 'seen-c2', 'seen-v2', t + 10, { decisionId: 'seen-d2' }), // a click in the slot: seen
      unnamed, // an impression from a slot that does not name the test
      outcome('seen', 'seen-i1b', 'seen-v1', t + 30, { name: 'impression', decisionId: 'seen-d1' }), // seen twice: once
    ]);
    const seen = await results('seen');
    expect(seen.arms.map((a: { impressions: number }) => a.impressions)).toEqual([2, 1]);
    expect(seen.arms.map((a: { conversions: number }) => a.conversions)).toEqual([0, 1]);
  });
});
