/**
 * GET /__attune/queue (src/worker/log/queue-routes.ts), which `npm start` waits on before it stops workerd:
 * there only with the ATTUNE_DEV var, and it counts what was queued and what was acked.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../src/worker/index.ts';
import { fetchWorker } from './helpers.ts';

async function call(path: string, init: RequestInit = {}, over: Record<string, string> = { ATTUNE_DEV: '1' }): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://attune.test${path}`, init), { ...env, ...over } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

type Counts = { isolate: string; sent: number; acked: number };

describe('the dev queue counts', () => {
  it('do not exist without ATTUNE_DEV (a deployed Worker): the path is an ordinary one', async () => {
    const res = await fetchWorker('/__attune/queue');
    const text = await res.text();
    expect(text).not.toMatch(/"acked"/);
    expect((await call('/__attune/queue', {}, { ATTUNE_DEV: '0' })).headers.get('content-type') ?? '').not.toContain('application/json');
  });

  it('count the records sent to the queue and those the consumer acked; ?wait= waits until all are', async () => {
    const before = (await (await call('/__attune/queue')).json()) as Counts;
    const events = Array.from({ length: 7 }, (_, i) => ({ name: 'click', id: `qs-${Date.now()}-${i}`, decisionId: 'd' }));
    const res = await call('/v1/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
    expect(res.status).toBe(200);
    const now = (await (await call('/__attune/queue')).json()) as Counts;
    expect(now.sent - before.sent).toBe(7);
    const drained = (await (await call('/__attune/queue?wait=8000')).json()) as Counts;
    expect(drained.acked).toBeGreaterThanOrEqual(drained.sent);
    expect(drained.acked - before.acked).toBeGreaterThanOrEqual(7);
    expect(drained.isolate).toBe(before.isolate);
  });
});
