/**
 * The real EVENTS queue binding behind a wrapper that notes every message sent through it (and
 * the records it carries), and refuses the ones a test names; and a call of the Worker with it.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import type { LogRecord } from '../../src/core/outcome-event.ts';
import { utf8Length } from '../../src/core/utf8.ts';
import worker from '../../src/worker/index.ts';
import { unpack } from '../../src/worker/log/log-pack.ts';
import { DESKTOP } from './helpers.ts';

/** One message as the wrapper saw it go to the real queue. */
export interface Sent {
  readonly body: unknown;
  readonly bytes: number;
  readonly records: LogRecord[];
}

/** The real EVENTS binding, counting every message; `refuse` makes a send throw instead. */
export function countingQueue(refuse: (body: unknown) => boolean = () => false) {
  const sent: Sent[] = [];
  let refused = 0;
  const note = (body: unknown) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    sent.push({ body, bytes: utf8Length(text), records: unpack(body)?.records ?? [] });
  };
  const queue = {
    async send(body: unknown, options?: QueueSendOptions) {
      if (refuse(body)) {
        refused++;
        throw new Error('Too Many Requests (injected)');
      }
      note(body);
      return env.EVENTS.send(body, options);
    },
    async sendBatch(messages: Iterable<MessageSendRequest>, options?: QueueSendBatchOptions) {
      const list = [...messages];
      if (list.some((m) => refuse(m.body))) {
        refused++;
        throw new Error('Too Many Requests (injected)');
      }
      for (const m of list) note(m.body);
      return env.EVENTS.sendBatch(list, options);
    },
  } as Queue;
  return { queue, sent, refusals: () => refused };
}

export async function call(queue: Queue, path: string, body: unknown): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://attune.test${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': DESKTOP },
      body: JSON.stringify(body),
    }),
    { ...env, EVENTS: queue } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx); // the coalesced flush of decision records runs in waitUntil
  return res;
}

/** The records a spy on the real binding's `send` (`vi.spyOn(env.EVENTS, 'send')`) saw queued, unpacked. */
export const spiedRecords = <R = LogRecord>(spy: { mock: { calls: unknown[][] } }): R[] =>
  spy.mock.calls.flatMap((c) => (unpack(c[0])?.records ?? []) as R[]);
