// Fixed-split A/B tests, pausing one arm, and the audit log, through the admin API and /v1/decide.
import { beforeEach, describe, expect, it } from 'vitest';
import { cookieHeader, cookiesOf, fetchWorker, postJson, resetCaches } from './helpers.ts';
import { admin, config, createAndLaunch, decide } from './experiment-helpers.ts';

beforeEach(resetCaches);

const three = [
  { key: 'a', payload: { type: 'text', value: 'A' } },
  { key: 'b', payload: { type: 'text', value: 'B' } },
  { key: 'c', payload: { type: 'text', value: 'C' } },
];

async function shares(key: string, visitors: number, prefix: string) {
  const count: Record<string, number> = {};
  const propensity: Record<string, number> = {};
  for (let i = 0; i < visitors; i++) {
    const d = (await decide(key, `visitor-${prefix}-${String(i).padStart(4, '0')}`)).body.decisions[0]!;
    count[d.variant] = (count[d.variant] ?? 0) + 1;
    propensity[d.variant] = d.propensity;
  }
  return { count, propensity };
}

describe('fixed split (plain A/B test)', () => {
  it('serves its weights by the visitor hash, with the weight as propensity and no snapshot fallback', async () => {
    await createAndLaunch('fixed-w', { algorithm: { name: 'fixed', floor: 0, weights: [1, 3] } });
    const { count, propensity } = await shares('fixed-w', 300, 'fw');
    expect(propensity).toEqual({ a: 0.25, b: 0.75 });
    expect(count.b! / 300).toBeGreaterThan(0.66);
    expect(count.b! / 300).toBeLessThan(0.84);
    const { res } = await decide('fixed-w', 'visitor-fw-one');
    expect(res.headers.get('x-attune-fallback')).toBeNull();
  });

  it('keeps a visitor on one arm when not sticky (the hash, not a fresh random draw)', async () => {
    await createAndLaunch('fixed-ns', { sticky: false, algorithm: { name: 'fixed', floor: 0 } });
    for (const visitor of ['visitor-ns-1', 'visitor-ns-2', 'visitor-ns-3', 'visitor-ns-4']) {
      const arms = new Set<string>();
      for (let i = 0; i < 8; i++) arms.add((await decide('fixed-ns', visitor)).body.decisions[0]!.variant);
      expect(arms.size, visitor).toBe(1);
    }
  });

  it('answers bad weights with 400 naming algorithm.weights', async () => {
    const cases = [
      { name: 'fixed', weights: [1] },
      { name: 'fixed', weights: [1, 0] },
      { name: 'thompson', weights: [1, 1] },
    ];
    for (const algorithm of cases) {
      const res = await admin('/admin/experiments', config('fixed-bad', { algorithm }));
      expect(res.status, JSON.stringify(algorithm)).toBe(400);
      expect(((await res.json()) as { error: { field: string } }).error.field).toBe('algorithm.weights');
    }
    // a fixed split has no floor: 0.6 × 2 arms is no error there
    expect((await admin('/admin/experiments', config('fixed-floor', { algorithm: { name: 'fixed', floor: 0.6 } }))).status).toBe(201);
  });
});

describe('pausing one arm', () => {
  it('serves a paused arm to nobody, moves its sticky visitors, and serves it again once resumed', async () => {
    await createAndLaunch('parm', { arms: three, algorithm: { name: 'thompson', floor: 0.1 } });
    // a visitor stuck on b (through the profile cookie) before the pause
    let stuck: string | null = null;
    let cookie = '';
    for (let i = 0; i < 60 && stuck === null; i++) {
      const res = await postJson('/v1/decide', { visitorId: `visitor-parm-${i}`, slots: [{ id: 'hero', experiment: 'parm' }] });
      const d = ((await res.json()) as { decisions: Array<{ variant: string }> }).decisions[0]!;
      if (d.variant === 'b') {
        stuck = `visitor-parm-${i}`;
        cookie = cookieHeader(cookiesOf(res));
      }
    }
    expect(stuck).not.toBeNull();
    const paused = await admin('/admin/experiments/parm/pause-arm', { arm: 'b' });
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ pausedArms: ['b'], status: 'running', changed: true });
    resetCaches();
    const { count, propensity } = await shares('parm', 60, 'parm-after');
    expect(count.b).toBeUndefined();
    expect(propensity.a! + propensity.c!).toBeCloseTo(1, 6);
    const again = await postJson('/v1/decide', { visitorId: stuck, slots: [{ id: 'hero', experiment: 'parm' }] }, { cookie });
    expect(((await again.json()) as { decisions: Array<{ variant: string; sticky: boolean }> }).decisions[0]).toMatchObject({
      sticky: false,
    });
    // the snapshot the aggregator republished gives b no share either
    const results = (await (await admin('/admin/experiments/parm/results', undefined, 'GET')).json()) as {
      allocation: Record<string, number>;
    };
    expect(results.allocation.b).toBe(0);

    expect((await admin('/admin/experiments/parm/resume-arm', { arm: 'b' })).status).toBe(200);
    resetCaches();
    expect((await shares('parm', 60, 'parm-resumed')).count.b).toBeGreaterThan(0);
  });

  it('refuses an unknown arm (400, field arm), a missing body (400) and the last arm served (409)', async () => {
    await createAndLaunch('parm2');
    const unknown = await admin('/admin/experiments/parm2/pause-arm', { arm: 'zz' });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { field: string } }).error.field).toBe('arm');
    expect((await admin('/admin/experiments/parm2/pause-arm', {})).status).toBe(400);
    expect((await admin('/admin/experiments/parm2/pause-arm', { arm: 'a' })).status).toBe(200);
    const last = await admin('/admin/experiments/parm2/pause-arm', { arm: 'b' });
    expect(last.status).toBe(409);
  });
});

describe('audit log', () => {
  it('records who (the token label) changed what and when, newest first', async () => {
    const alice = { authorization: 'Bearer test-admin-token-alice-0123456789abcdef', 'content-type': 'application/json' };
    const created = await fetchWorker('/admin/experiments', { method: 'POST', headers: alice, body: JSON.stringify(config('audit')) });
    expect(created.status).toBe(201);
    expect((await admin('/admin/experiments/audit/launch')).status).toBe(200);
    const t0 = Date.now();
    expect((await admin('/admin/experiments/audit', { ...config('audit'), traffic: 0.5 }, 'PUT')).status).toBe(200);
    expect((await admin('/admin/experiments/audit/stop', { winner: 'b' })).status).toBe(200);
    const res = await admin('/admin/experiments/audit/audit', undefined, 'GET');
    expect(res.status).toBe(200);
    const log = (await res.json()) as { entries: Array<{ at: number; action: string; by?: string; detail?: string; status: string }> };
    expect(log.entries.map((e) => [e.action, e.by])).toEqual([
      ['stop', 'admin'],
      ['edit', 'admin'],
      ['launch', 'admin'],
      ['create', 'alice'],
    ]);
    expect(log.entries[0]).toMatchObject({ status: 'stopped', detail: 'winner b' });
    expect(log.entries[1]!.detail).toBe('traffic 1 → 0.5');
    expect(log.entries[1]!.at).toBeGreaterThanOrEqual(t0);
    expect((await fetchWorker('/admin/experiments/audit/audit')).status).toBe(401);
  });
});
