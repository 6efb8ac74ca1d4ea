import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/core/outcome-event.ts';
import { sendToLog } from '../../src/worker/log/log-producer.ts';

function fakeQueue(failFirst = 0) {
  const calls: { body: unknown }[][] = [];
  let fails = failFirst;
  const queue = {
    async sendBatch(batch: Iterable<{ body: unknown }>) {
      if (fails-- > 0) throw new Error('queue down');
      calls.push([...batch]);
    },
  } as unknown as Queue;
  return { queue, calls };
}

const event = (i: number, pad = 0): LogRecord =>
  ({ type: 'outcome', v: 1, id: `e${i}`, ts: 1, receivedAt: 1, name: 'goal', goal: 'x'.repeat(pad) }) as LogRecord;

describe('sendToLog', () => {
  it('splits into batches of at most 100 messages and about 200 KB, in order, losing none', async () => {
    const { queue, calls } = fakeQueue();
    const records = Array.from({ length: 450 }, (_, i) => event(i, 3000)); // ~3 KB each
    await sendToLog(queue, records);
    expect(calls.flat().map((m) => (m.body as LogRecord).id)).toEqual(records.map((r) => r.id));
    for (const batch of calls) {
      expect(batch.length).toBeLessThanOrEqual(100);
      expect(batch.reduce((s, m) => s + JSON.stringify(m.body).length, 0)).toBeLessThanOrEqual(200 * 1024);
    }
    const small = fakeQueue();
    await sendToLog(
      small.queue,
      Array.from({ length: 250 }, (_, i) => event(i)),
    );
    expect(small.calls.map((b) => b.length)).toEqual([100, 100, 50]);
  });

  it('retries a failed send once, then lets the caller see the failure', async () => {
    const once = fakeQueue(1);
    await sendToLog(once.queue, [event(1)]);
    expect(once.calls).toHaveLength(1);
    const twice = fakeQueue(2);
    await expect(sendToLog(twice.queue, [event(1)])).rejects.toThrow('queue down');
  });
});
