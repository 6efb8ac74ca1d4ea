// End to end through the real local queue: /v1/decide and /v1/events produce, the Worker's own
// queue() consumer writes R2, and the log holds exactly the accepted records.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { hashVisitor } from '../../src/core/decision-record.ts';
import type { LogRecord } from '../../src/core/outcome-event.ts';
import { attribute, newJoinStats, type Example } from '../../src/train/attribution.ts';
import { LOG_PREFIX } from '../../src/core/log-layout.ts';
import { gunzipNdjson } from '../../src/worker/log/log-object.ts';
import { call, countingQueue } from './counting-queue.ts';
import { fetchWorker, postJson } from './helpers.ts';

async function allLogRecords(): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.LOG.list({ prefix: LOG_PREFIX, ...(cursor ? { cursor } : {}) });
    for (const o of page.objects) {
      const obj = await env.LOG.get(o.key);
      if (obj) out.push(...((await gunzipNdjson(await obj.arrayBuffer())) as LogRecord[]));
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out;
}

async function waitFor<T>(probe: () => Promise<T | null>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error('timed out waiting for the log');
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('decide → events → queue → R2', () => {
  it('stores every accepted record exactly once and nothing that was rejected', async () => {
    const visitorId = `pipeline-${crypto.randomUUID().slice(0, 8)}`;
    const decide = await postJson('/v1/decide', {
      visitorId,
      page: { url: 'https://shop.example/pricing' },
      slots: [
        { id: 'hero', candidates: ['a', 'b'] },
        { id: 'cta', candidates: ['x', 'y', 'z'] },
      ],
    });
    expect(decide.status).toBe(200);
    const { decisions } = await decide.json<{ decisions: { decisionId: string; slot: string; variant: string }[] }>();

    // the snippet's beacon: text/plain, a mixed batch
    const beacon = await fetchWorker('/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify([
        {
          id: `${visitorId}-imp`,
          name: 'impression',
          decisionId: decisions[0]!.decisionId,
          visitorId,
          slot: 'hero',
          viewable: { share: 1, ms: 1500 },
        },
        { id: `${visitorId}-bad`, name: 'click', value: 'NaN', visitorId },
        { id: `${visitorId}-clk`, name: 'click', decisionId: decisions[0]!.decisionId, visitorId, slot: 'hero' },
      ]),
    });
    expect((await beacon.json<{ accepted: number }>()).accepted).toBe(2);
    // existing Segment instrumentation
    const segment = await postJson('/v1/events', {
      type: 'track',
      event: 'Order Completed',
      messageId: `${visitorId}-seg`,
      anonymousId: visitorId,
      properties: {
        revenue: 30,
        currency: 'EUR',
        decisionId: decisions[1]!.decisionId,
        products: [{ product_id: 'p1', price: 30, quantity: 1 }],
      },
    });
    expect((await segment.json<{ accepted: number }>()).accepted).toBe(1);
    const expected = new Set([...decisions.map((d) => d.decisionId), `${visitorId}-imp`, `${visitorId}-clk`, `${visitorId}-seg`]);
    const mine = await waitFor(async () => {
      const recs = (await allLogRecords()).filter((r) => r.visitor === hashVisitor(visitorId));
      const ids = new Set(recs.map((r) => r.id));
      return [...expected].every((id) => ids.has(id)) ? recs : null;
    });
    const once = new Map<string, LogRecord[]>();
    for (const r of mine) once.set(r.id, [...(once.get(r.id) ?? []), r]);
    expect(new Set(once.keys())).toEqual(expected);
    for (const [id, copies] of once) expect(copies.length, id).toBe(1);

    // the client resends the beacon (lost response): same ids
    await fetchWorker('/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify([{ id: `${visitorId}-clk`, name: 'click', decisionId: decisions[0]!.decisionId, visitorId, slot: 'hero' }]),
    });

    // The resend is a second copy in the log by design (Queues and clients deliver at least
    // once; readers dedupe by id, see docs/log-schema.md), identical but for the intake times (no client ts was sent).
    const clicks = await waitFor(async () => {
      const c = (await allLogRecords()).filter((r) => r.id === `${visitorId}-clk`);
      return c.length === 2 ? c : null;
    });
    expect({ ...clicks[1], ts: 0, receivedAt: 0 }).toEqual({ ...clicks[0], ts: 0, receivedAt: 0 });
    // ... and the trainer's reader counts it once: one positive, one duplicate dropped.
    const stats = newJoinStats();
    const examples: Example[] = [];
    const labels = { labels: new Set(['click', 'purchase']), windowMs: 30 * 60_000, graceMs: 0, skewMs: 60_000 };
    const everything = (await allLogRecords()).filter((r) => r.visitor === hashVisitor(visitorId)).sort((a, b) => a.ts - b.ts);
    for await (const b of attribute([everything], labels, stats)) examples.push(...b);
    expect(examples.map((e) => [e.decision.slot, e.label, e.value])).toEqual([
      ['hero', 1, 0],
      ['cta', 1, 30],
    ]);
    expect(stats.duplicateOutcomes).toBe(1);

    const hero = mine.find((r) => r.id === decisions[0]!.decisionId)!;
    expect(hero).toMatchObject({ type: 'decision', slot: 'hero', action: decisions[0]!.variant });
    expect(mine.find((r) => r.id === `${visitorId}-seg`)).toMatchObject({
      type: 'outcome',
      name: 'purchase',
      value: 30,
      decisionId: decisions[1]!.decisionId,
    });
  }, 60_000);

  it('lands every record of a 500-event batch, a 16-slot decide and concurrent beacons exactly once, in a few packed messages', async () => {
    const visitorId = `packed-${crypto.randomUUID().slice(0, 8)}`;
    const q = countingQueue(); // the real queue, counted on the way in
    const slots = Array.from({ length: 16 }, (_, i) => ({ id: `s${i}`, candidates: ['a', 'b'] }));
    const [decide, batch, ...beacons] = await Promise.all([
      call(q.queue, '/v1/decide', { visitorId, page: { url: 'https://shop.example/' }, slots }),
      call(
        q.queue,
        '/v1/events',
        Array.from({ length: 500 }, (_, i) => ({ id: `${visitorId}-b${i}`, name: 'impression', visitorId, slot: `s${i % 16}` })),
      ),
      ...Array.from({ length: 20 }, (_, i) => call(q.queue, '/v1/events', [{ id: `${visitorId}-beacon${i}`, name: 'click', visitorId }])),
    ]);
    expect(decide!.status).toBe(200);
    expect((await batch!.json<{ accepted: number }>()).accepted).toBe(500);
    for (const b of beacons) expect(b.status).toBe(200);
    const decided = (await decide!.json<{ decisions: { decisionId: string }[] }>()).decisions.map((d) => d.decisionId);
    const expected = new Set([
      ...decided,
      ...Array.from({ length: 500 }, (_, i) => `${visitorId}-b${i}`),
      ...Array.from({ length: 20 }, (_, i) => `${visitorId}-beacon${i}`),
    ]);
    expect(expected.size).toBe(536);
    // one message per beacon at most, a few for the batch, the decide's records in one or riding along
    expect(q.sent.length).toBeLessThanOrEqual(20 + 3 + 1);
    const mine = await waitFor(async () => {
      const recs = (await allLogRecords()).filter((r) => r.visitor === hashVisitor(visitorId));
      return recs.length >= expected.size ? recs : null;
    });
    expect(mine).toHaveLength(expected.size);
    expect(new Set(mine.map((r) => r.id))).toEqual(expected);
  }, 60_000);

  it('logs every identical id-less, ts-less server event, sent at once or in one batch, and still folds resends that carry a ts', async () => {
    const visitorId = `server-${crypto.randomUUID().slice(0, 8)}`;
    const purchase = { name: 'purchase', visitorId, value: 25, currency: 'EUR', items: [{ id: 'sku-1', price: 25, quantity: 1 }] };
    const concurrent = await Promise.all(Array.from({ length: 16 }, () => postJson('/v1/events', [purchase])));
    for (const r of concurrent) expect((await r.json<{ accepted: number }>()).accepted).toBe(1);
    const batch = await postJson(
      '/v1/events',
      Array.from({ length: 16 }, () => purchase),
    );
    expect(await batch.json()).toMatchObject({ accepted: 16, duplicates: 0 });
    // the same event with a client ts, sent twice at once: one event (two copies of one id)
    const stamped = { ...purchase, value: 40, ts: Date.now() - 1000 };
    const resent = await Promise.all([postJson('/v1/events', [stamped]), postJson('/v1/events', [stamped])]);
    const ids = await Promise.all(resent.map(async (r) => (await r.json<{ ids: string[] }>()).ids[0]));
    expect(ids[0]).toBe(ids[1]);

    const lines = await waitFor(async () => {
      const recs = (await allLogRecords()).filter((r) => r.visitor === hashVisitor(visitorId));
      const outcomes = recs.filter((r) => r.type === 'outcome');
      return outcomes.filter((r) => r.value === 25).length >= 32 && outcomes.some((r) => r.value === 40) ? recs : null;
    });
    const plain = lines.filter((r) => r.type === 'outcome' && r.value === 25);
    expect(plain).toHaveLength(32);
    expect(new Set(plain.map((r) => r.id)).size).toBe(32);
    // one line, or two copies of one id when the copies landed in different queue batches
    const withTs = lines.filter((r) => r.type === 'outcome' && r.value === 40);
    expect(new Set(withTs.map((r) => r.id))).toEqual(new Set([ids[0]]));
  }, 60_000);
});
