import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import type { LogRecord } from '../../src/core/outcome-event.ts';
import { backoffSeconds, consumeLog } from '../../src/worker/log/log-consumer.ts';
import { logObjectKey } from '../../src/core/log-layout.ts';
import { gunzipNdjson } from '../../src/worker/log/log-object.ts';
import { packText } from '../../src/worker/log/log-pack.ts';
import { consoleCalls } from './log-capture.ts';

const T0 = Date.UTC(2026, 10, 23, 9, 41);

function outcome(id: string, extra: Partial<Record<string, unknown>> = {}): LogRecord {
  return { type: 'outcome', v: 1, id, ts: T0, receivedAt: T0, name: 'click', decisionId: `d-${id}`, ...extra } as LogRecord;
}

function batchOf(tag: string, bodies: unknown[], attempts = 1) {
  return createMessageBatch(
    'attune-events',
    bodies.map((body, i) => ({ id: `${tag}-m${i}`, timestamp: new Date(T0 + i), attempts, body })),
  );
}

/** An R2 binding whose first `failures` puts throw, as a flaky network would. */
function flakyBucket(real: R2Bucket, failures: number): R2Bucket & { puts: number } {
  const wrapper = Object.create(real) as R2Bucket & { puts: number };
  wrapper.puts = 0;
  wrapper.put = (async (...args: Parameters<R2Bucket['put']>) => {
    wrapper.puts++;
    if (failures-- > 0) throw new Error('R2 unavailable (injected)');
    return real.put(...args);
  }) as R2Bucket['put'];
  return wrapper;
}

async function objectRecords(key: string): Promise<LogRecord[]> {
  const obj = await env.LOG.get(key);
  expect(obj, `object ${key}`).not.toBeNull();
  return (await gunzipNdjson(await obj!.arrayBuffer())) as LogRecord[];
}

describe('queue consumer → R2', () => {
  it('writes one gzip NDJSON object per batch under the site/date/hour partition, then acks', async () => {
    const bodies = [outcome('a1'), outcome('a2', { name: 'purchase', value: 9.5, currency: 'EUR' })];
    const batch = batchOf('write', bodies);
    const ctx = createExecutionContext();
    await consumeLog(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.ackAll).toBe(true);
    expect(result.retryBatch.retry).toBe(false);
    const key = logObjectKey(T0, ['write-m0', 'write-m1']);
    expect(key).toMatch(/^log\/site=default\/dt=2026-11-23\/hour=09\/\d{13}-[0-9a-f]{16}\.ndjson\.gz$/);
    expect(await objectRecords(key)).toEqual(bodies);
    const head = await env.LOG.head(key);
    expect(head?.customMetadata?.records).toBe('2');
  });

  it('keeps an outcome whose id is the id of a decision in the same batch (ids are unique per type)', async () => {
    const decision = { type: 'decision', v: 1, id: 'same-1', ts: T0 } as unknown as LogRecord;
    const click = outcome('same-1', { decisionId: 'same-1' });
    const batch = batchOf('same', [decision, click, click]);
    const ctx = createExecutionContext();
    await consumeLog(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);
    expect(await objectRecords(logObjectKey(T0, ['same-m0', 'same-m1', 'same-m2']))).toEqual([decision, click]);
  });

  it('retries a batch whose R2 write failed, with backoff, and the retry stores each record exactly once', async () => {
    const bodies = [outcome('r1'), outcome('r2'), outcome('r3')];
    const key = logObjectKey(T0, ['retry-m0', 'retry-m1', 'retry-m2']);
    const flaky = flakyBucket(env.LOG, 1);
    const first = batchOf('retry', bodies, 1);
    const ctx1 = createExecutionContext();
    const retryAll = vi.spyOn(first, 'retryAll'); // the test harness does not report the delay
    await consumeLog(first, { ...env, LOG: flaky }, ctx1);
    expect(retryAll).toHaveBeenCalledWith({ delaySeconds: backoffSeconds(1) });
    const r1 = await getQueueResult(first, ctx1);
    expect(r1.ackAll).toBe(false);
    expect(r1.retryBatch.retry).toBe(true);
    expect(await env.LOG.head(key)).toBeNull();

    // Redelivery (attempts = 2) of the same messages: written, acked.
    const second = batchOf('retry', bodies, 2);
    const ctx2 = createExecutionContext();
    await consumeLog(second, { ...env, LOG: flaky }, ctx2);
    const r2 = await getQueueResult(second, ctx2);
    expect(r2.ackAll).toBe(true);
    expect(flaky.puts).toBe(2);
    expect(await objectRecords(key)).toEqual(bodies);

    // A redelivery after a write that did land (lost ack) overwrites the same object: no copy.
    const third = batchOf('retry', bodies, 3);
    await consumeLog(third, env, createExecutionContext());
    const listed = await env.LOG.list({ prefix: 'log/site=default/dt=2026-11-23/hour=09/' });
    const copies = listed.objects.filter((o) => o.key === key);
    expect(copies).toHaveLength(1);
    expect(await objectRecords(key)).toEqual(bodies);
  });

  it('unpacks packed messages and still reads the single-record messages of before, in one batch, one copy of each record', async () => {
    const pack = (...rs: LogRecord[]) => packText(rs.map((r) => JSON.stringify(r)));
    const decision = { type: 'decision', v: 1, id: 'mix-d1', ts: T0 } as unknown as LogRecord;
    const bodies = [
      outcome('mix-old-1'), // a message of before, in flight at the deploy
      pack(outcome('mix-p1'), decision, outcome('mix-p2')),
      outcome('mix-p2'), // the same record once more, single: kept once
      pack(outcome('mix-p3')),
      new TextEncoder().encode(pack(outcome('mix-bytes'))).buffer, // a pack a replay tool re-sent as bytes
      JSON.parse(pack(outcome('mix-json'), outcome('mix-p1'))), // ... or as parsed JSON
      '{"pack":1,"records":[{"type":"other"},', // cut short: not a pack
    ];
    const seen: string[] = [];
    const batch = batchOf('mixed', bodies);
    const ctx = createExecutionContext();
    await consumeLog(batch, env, ctx, [
      async (_env, records) => {
        seen.push(...records.map((r) => r.id));
      },
    ]);
    const said = consoleCalls('error').map((c) => JSON.parse(String(c[0])) as { msg: string; messageId: string });
    expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);
    const ids = ['mix-old-1', 'mix-p1', 'mix-d1', 'mix-p2', 'mix-p3', 'mix-bytes', 'mix-json'];
    const stored = await objectRecords(
      logObjectKey(
        T0,
        batch.messages.map((m) => m.id),
      ),
    );
    expect(stored.map((r) => r.id)).toEqual(ids);
    expect(stored[2]).toEqual(decision);
    expect(seen).toEqual(ids);
    expect(said).toEqual([expect.objectContaining({ msg: 'log: not a log record, dropped', messageId: 'mixed-m6' })]); // the broken body, said once
  });

  it('backs off exponentially up to ten minutes', () => {
    expect([1, 2, 3, 4, 20].map(backoffSeconds)).toEqual([10, 20, 40, 80, 600]);
  });

  it('keeps one copy of a record repeated within a batch, drops foreign bodies, and feeds sinks only after the write', async () => {
    const seen: string[] = [];
    const sink = async (_env: Env, records: LogRecord[]) => {
      seen.push(...records.map((r) => r.id));
    };
    const batch = batchOf('dups', [outcome('x1'), outcome('x1'), 'garbage', { type: 'other' }, outcome('x2')]);
    const ctx = createExecutionContext();
    await consumeLog(batch, env, ctx, [sink]);
    expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);
    const key = logObjectKey(
      T0,
      batch.messages.map((m) => m.id),
    );
    expect((await objectRecords(key)).map((r) => r.id)).toEqual(['x1', 'x2']);
    expect(seen).toEqual(['x1', 'x2']);

    const failing = batchOf('nosink', [outcome('y1')]);
    const ctxF = createExecutionContext();
    seen.length = 0;
    await consumeLog(failing, { ...env, LOG: flakyBucket(env.LOG, 1) }, ctxF, [sink]);
    expect((await getQueueResult(failing, ctxF)).retryBatch.retry).toBe(true);
    expect(seen).toEqual([]);
  });
});
