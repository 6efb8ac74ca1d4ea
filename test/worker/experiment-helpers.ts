/** Helpers for the bandit-test suites: configs, admin calls, synthetic exposure/outcome records. */
import type { DecisionRecord } from '../../src/core/decision-record.ts';
import type { OutcomeEvent } from '../../src/core/outcome-event.ts';
import { ADMIN, fetchWorker, postJson } from './helpers.ts';

export function config(key: string, extra: Record<string, unknown> = {}) {
  return {
    key,
    name: `Test ${key}`,
    goals: ['click'],
    arms: [
      { key: 'a', payload: { type: 'text', value: 'Start your free trial' } },
      { key: 'b', payload: { type: 'html', value: '<b>Try it free</b>' } },
    ],
    algorithm: { name: 'thompson', floor: 0.02 },
    publishSeconds: 1,
    ...extra,
  };
}

/** An authorized admin call; a body is sent as JSON. */
export const admin = (path: string, body?: unknown, method = 'POST') =>
  fetchWorker(
    path,
    body === undefined
      ? { method, headers: ADMIN }
      : { method, headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify(body) },
  );

export async function createAndLaunch(key: string, extra: Record<string, unknown> = {}) {
  const created = await admin('/admin/experiments', config(key, extra));
  if (created.status !== 201) throw new Error(`create ${created.status}: ${await created.text()}`);
  const launched = await admin(`/admin/experiments/${key}/launch`);
  if (launched.status !== 200) throw new Error(`launch ${launched.status}: ${await launched.text()}`);
}

export async function decide(experiment: string, visitorId: string, headers: Record<string, string> = {}) {
  const res = await postJson('/v1/decide', { visitorId, slots: [{ id: 'hero', experiment }] }, headers);
  return { res, body: (await res.json()) as { decisions: Array<Record<string, any>> } };
}

export function exposure(experiment: string, id: string, visitor: string, arm: string, ts: number): DecisionRecord {
  return {
    type: 'decision',
    v: 1,
    id,
    ts,
    kind: 'variant',
    visitor,
    slot: 'hero',
    model: null,
    action: arm,
    propensity: 0.5,
    score: null,
    source: 'explore',
    candidates: ['a', 'b'],
    probabilities: [0.5, 0.5],
    featureSpec: 0,
    experiment,
    context: {
      country: 'DE',
      region: '?',
      city: '?',
      asn: 0,
      timezone: '?',
      device: 'desktop',
      os: 'windows',
      browser: 'chrome',
      referrer: 'direct',
      referrerHost: '',
      utmSource: '',
      utmMedium: '',
      utmCampaign: '',
      utmTerm: '',
      utmContent: '',
      path: '/',
      pageType: 'home',
      hour: 12,
      weekday: 1,
      visits: 1,
      daysSinceLastVisit: -1,
      purchases: 0,
      segments: [],
      attrs: {},
    } as DecisionRecord['context'],
  };
}

export function outcome(experiment: string, id: string, visitor: string, ts: number, extra: Partial<OutcomeEvent> = {}): OutcomeEvent {
  return { type: 'outcome', v: 1, id, ts, receivedAt: ts, name: 'click', visitor, experiment, ...extra };
}

/** Every record the queue consumer has written to the R2 log so far. */
export async function loggedRecords(): Promise<Array<DecisionRecord | OutcomeEvent>> {
  const { env } = await import('cloudflare:workers');
  const { LOG_PREFIX } = await import('../../src/core/log-layout.ts');
  const { gunzipNdjson } = await import('../../src/worker/log/log-object.ts');
  const out: Array<DecisionRecord | OutcomeEvent> = [];
  let cursor: string | undefined;
  do {
    const page = await env.LOG.list({ prefix: LOG_PREFIX, ...(cursor ? { cursor } : {}) });
    for (const o of page.objects) {
      const obj = await env.LOG.get(o.key);
      if (obj) out.push(...((await gunzipNdjson(await obj.arrayBuffer())) as Array<DecisionRecord | OutcomeEvent>));
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out;
}

/** Polls `probe` until it returns something, or fails after `ms`. */
export async function eventually<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The results of an experiment, as the admin API answers them. */
export async function results(key: string): Promise<Record<string, any>> {
  const res = await admin(`/admin/experiments/${key}/results`, undefined, 'GET');
  if (res.status !== 200) throw new Error(`results ${res.status}: ${await res.text()}`);
  return (await res.json()) as Record<string, any>;
}
