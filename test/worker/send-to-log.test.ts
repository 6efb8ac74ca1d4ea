// The log producer packs records many to a queue message (src/worker/log/log-pack.ts). These run
// the Worker on a wrapper of the real local queue binding that counts what goes through it and,
// where a test says so, refuses a message (as a queue at its throughput limit would):
// counting-queue.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogRecord } from '../../src/core/outcome-event.ts';
import { utf8Length } from '../../src/core/utf8.ts';
import { FRAME_BYTES, MAX_RECORD_BYTES, PACK_BYTES } from '../../src/worker/log/log-pack.ts';
import { logRecords, sendToLog } from '../../src/worker/log/log-producer.ts';
import { call, countingQueue } from './counting-queue.ts';
import { consoleCalls } from './log-capture.ts';

const goal = (id: string, pad = 0): LogRecord =>
  ({ type: 'outcome', v: 1, id, ts: 1, receivedAt: 1, name: 'goal', goal: `g${'x'.repeat(pad)}` }) as LogRecord;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('packed queue messages', () => {
  it('500 small events in one request go in as few messages as their bytes need, each under one 64 KB billing unit', async () => {
    const q = countingQueue();
    const tag = crypto.randomUUID().slice(0, 8);
    const events = Array.from({ length: 500 }, (_, i) => ({
      id: `pk-${tag}-${i}`,
      name: 'click',
      decisionId: `d-${i}`,
      visitorId: 'visitor-pk-1',
    }));
    const res = await call(q.queue, '/v1/events', events);
    expect(res.status).toBe(200);
    expect((await res.json<{ accepted: number }>()).accepted).toBe(500);
    const records = q.sent.flatMap((m) => m.records);
    expect(records.map((r) => r.id)).toEqual(events.map((e) => e.id));
    const bytes = records.reduce((n, r) => n + utf8Length(JSON.stringify(r)), 0);
    expect(bytes).toBeGreaterThan(64_000); // more than one message's worth
    expect(q.sent.length).toBeLessThanOrEqual(Math.ceil(bytes / 64_000)); // one per record before packing: 500
    // Cloudflare bills a message per 64,000 bytes, counting ~100 bytes of metadata with it
    for (const m of q.sent) expect(m.bytes).toBeLessThanOrEqual(64_000 - 100);
  });

  it('a 16-slot decide queues its 16 decision records as one message', async () => {
    const q = countingQueue();
    const slots = Array.from({ length: 16 }, (_, i) => ({ id: `slot-${i}`, candidates: ['a', 'b', 'c'] }));
    const res = await call(q.queue, '/v1/decide', { visitorId: 'visitor-pk-16', page: { url: 'https://shop.example/' }, slots });
    expect(res.status).toBe(200);
    const { decisions } = await res.json<{ decisions: { decisionId: string }[] }>();
    expect(q.sent).toHaveLength(1);
    expect(q.sent[0]!.records.map((r) => r.id)).toEqual(decisions.map((d) => d.decisionId));
  });

  it('a pack the queue refuses fails only its own records: the other packs of the flush are queued', async () => {
    // 3 KB records: about 20 to a pack, so 100 of them make 5 packs; the queue refuses the one holding r-50
    const q = countingQueue((body) => typeof body === 'string' && body.includes('"id":"r-50"'));
    const records = Array.from({ length: 100 }, (_, i) => goal(`r-${i}`, 3000));
    await expect(sendToLog(q.queue, records)).rejects.toThrow('not queued');
    expect(q.refusals()).toBe(2); // tried, and tried once more
    const queued = new Set(q.sent.flatMap((m) => m.records.map((r) => r.id)));
    expect(q.sent.length).toBeGreaterThanOrEqual(4);
    expect(queued.has('r-50')).toBe(false);
    const lost = records.filter((r) => !queued.has(r.id)).map((r) => r.id);
    expect(lost.length).toBeLessThan(PACK_BYTES / 3000 + 1); // one pack's worth
    expect(lost).toContain('r-50');
    expect(queued.size + lost.length).toBe(100);
    expect(consoleCalls('error')).toEqual([]); // the caller was told; nothing of its was logged as lost by the producer

    // the same with records nobody awaits (decision paths): logged, with exactly the lost ids
    const waits: Promise<unknown>[] = [];
    const q2 = countingQueue((body) => typeof body === 'string' && body.includes('"id":"s-50"'));
    logRecords(
      q2.queue,
      Array.from({ length: 100 }, (_, i) => goal(`s-${i}`, 3000)),
      (p) => waits.push(p),
    );
    await Promise.all(waits);
    const line = JSON.parse(consoleCalls('error').find((c) => String(c[0]).includes('log records not queued'))![0] as string);
    const queued2 = new Set(q2.sent.flatMap((m) => m.records.map((r) => r.id)));
    expect(line.ids).toContain('s-50');
    expect(new Set([...line.ids, ...queued2]).size).toBe(100);
    for (const id of line.ids) expect(queued2.has(id)).toBe(false);
  });

  it('an event request answers 503 only when its own records were not queued, not when decision records sharing its flush were', async () => {
    const q = countingQueue((body) => typeof body === 'string' && body.includes('"id":"big-decision-0"'));
    // a decision record waiting in the buffer fills a pack on its own, and that pack is refused
    const waits: Promise<unknown>[] = [];
    const bigOf = (pad: number) => ({ ...goal('big-decision-0', pad), type: 'decision' }) as unknown as LogRecord;
    const big = bigOf(PACK_BYTES - FRAME_BYTES - utf8Length(JSON.stringify(bigOf(0))));
    expect(utf8Length(JSON.stringify(big))).toBe(PACK_BYTES - FRAME_BYTES);
    logRecords(q.queue, [big], (p) => waits.push(p));
    const tag = crypto.randomUUID().slice(0, 8);
    const res = await call(q.queue, '/v1/events', [{ id: `own-${tag}`, name: 'click', visitorId: 'visitor-own-1' }]);
    expect(res.status).toBe(200);
    expect(q.sent.flatMap((m) => m.records.map((r) => r.id))).toContain(`own-${tag}`);
    const lost = consoleCalls('error')
      .map((c) => String(c[0]))
      .find((l) => l.includes('log records not queued'));
    expect(JSON.parse(lost!).ids).toEqual(['big-decision-0']);
    await Promise.all(waits);

    // and when its own pack is refused: 503, the client resends
    const refusing = countingQueue((body) => typeof body === 'string' && body.includes('"own-refused-'));
    const refused = await call(refusing.queue, '/v1/events', [{ id: `own-refused-${tag}`, name: 'click', visitorId: 'visitor-own-1' }]);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: { code: 'queue_unavailable' } });
  });

  it('a record too large for any message is refused alone (logged); the records around it are queued', async () => {
    const q = countingQueue();
    const waits: Promise<unknown>[] = [];
    const huge = { ...goal('huge-1'), type: 'decision', context: { path: 'x'.repeat(MAX_RECORD_BYTES) } } as unknown as LogRecord;
    logRecords(q.queue, [goal('small-1'), huge, goal('small-2')], (p) => waits.push(p));
    await Promise.all(waits);
    expect(q.sent.flatMap((m) => m.records.map((r) => r.id))).toEqual(['small-1', 'small-2']);
    expect(consoleCalls('error').map((c) => JSON.parse(String(c[0])))).toEqual([
      expect.objectContaining({ msg: expect.stringContaining('too large'), id: 'huge-1' }),
    ]);
    // an awaited caller is told
    await expect(sendToLog(q.queue, [huge])).rejects.toThrow('larger than a queue message');
  });
});
