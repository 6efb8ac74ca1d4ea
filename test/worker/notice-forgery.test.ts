/**
 * A client cannot pass its events off as our notices: `/v1/events` refuses the ids the notice and
 * click routes write (`win:…`, `billing:…`, `loss:…`, `click:…`), also through Segment's
 * `messageId`, and the log consumer keeps the genuine notice over a client event that got such an
 * id before the refusal (one still on the queue during the deploy).
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { logObjectKey } from '../../src/core/log-layout.ts';
import type { LogRecord } from '../../src/core/outcome-event.ts';
import { consumeLog } from '../../src/worker/log/log-consumer.ts';
import { gunzipNdjson } from '../../src/worker/log/log-object.ts';
import { postJson } from './helpers.ts';

interface Answer {
  accepted: number;
  rejected: { index: number; field: string; reason: string }[];
  error?: { field: string; message: string };
}

describe('POST /v1/events refuses the notice and click routes ids', () => {
  it.each(['win:d-1', 'billing:d-1', 'loss:d-1', 'click:d-1'])('a native event with id %s: 400 naming [0].id', async (id) => {
    const res = await postJson('/v1/events', [{ id, name: 'impression', decisionId: 'd-1' }]);
    expect(res.status).toBe(400);
    const body = (await res.json()) as Answer;
    expect(body.error!.field).toBe('[0].id');
    expect(body.error!.message).toContain('reserved for ad notices');
  });

  it('a Segment call whose messageId is one: refused naming messageId; the rest of the batch is taken', async () => {
    const res = await postJson('/v1/events', {
      batch: [
        { type: 'track', event: 'Product Clicked', messageId: 'click:d-2', anonymousId: 'visitor-12345678' },
        { type: 'track', event: 'Product Clicked', messageId: 'my-click:d-2', anonymousId: 'visitor-12345678' },
        { id: 'winner:1', name: 'click' }, // only the exact prefixes are reserved
      ],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Answer;
    expect(body.accepted).toBe(2);
    expect(body.rejected).toEqual([{ index: 0, field: 'messageId', reason: expect.stringContaining('reserved for ad notices') }]);
  });
});

describe('the log consumer', () => {
  const T0 = Date.UTC(2026, 10, 23, 10, 5);
  const genuine = {
    type: 'outcome',
    v: 1,
    id: 'billing:bid-7',
    ts: T0,
    receivedAt: T0,
    name: 'billing',
    decisionId: 'bid-7',
    value: 0.0019,
    auction: { price: 1.9 },
    exchange: 'exchange-a',
    props: { campaign: 'c' },
  } as LogRecord;
  const genuineClick = { ...genuine, id: 'click:bid-7', name: 'click', auction: undefined, value: undefined } as LogRecord;
  const forgeries = [
    { type: 'outcome', v: 1, id: 'billing:bid-7', ts: T0, receivedAt: T0, name: 'impression', decisionId: 'bid-7' },
    { type: 'outcome', v: 1, id: 'click:bid-7', ts: T0, receivedAt: T0, name: 'click', decisionId: 'bid-7' }, // no exchange
  ] as LogRecord[];

  it('keeps the genuine notice and click when client events with their ids come first in the batch', async () => {
    const bodies = [...forgeries, genuine, genuineClick];
    const batch = createMessageBatch(
      'attune-events',
      bodies.map((body, i) => ({ id: `forge-m${i}`, timestamp: new Date(T0 + i), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    await consumeLog(batch, env, ctx, []);
    expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);
    const obj = await env.LOG.get(
      logObjectKey(
        T0,
        bodies.map((_, i) => `forge-m${i}`),
      ),
    );
    expect(await gunzipNdjson(await obj!.arrayBuffer())).toEqual([genuine, genuineClick]);
  });
});
