// POST /v1/events is rate-limited per client address on the real local Rate Limiting binding.
// The 429 cases run the Worker with EVENTS_LIMITER replaced by EVENTS_LIMITER_LOW (5 requests a
// minute, vitest.config.ts): a binding's limit is fixed when the runtime starts.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { clientKey, EVENTS_PER_UNIT, RETRY_AFTER_SECONDS } from '../../src/worker/events/event-rate-limit.ts';
import worker from '../../src/worker/index.ts';
import { postJson } from './helpers.ts';

const LOW = 5;
const lowEnv = { ...env, EVENTS_LIMITER: (env as unknown as { EVENTS_LIMITER_LOW: RateLimit }).EVENTS_LIMITER_LOW } as Env;

async function beacon(address: string | null, id: string, e: Env = lowEnv, events = 1): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'text/plain', origin: 'https://shop.example' };
  if (address !== null) headers['cf-connecting-ip'] = address;
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request('http://attune.test/v1/events', {
      method: 'POST',
      headers,
      body: JSON.stringify(
        Array.from({ length: events }, (_, i) => ({ id: `${id}-${i}`, name: 'impression', visitorId: 'rate-visitor-1' })),
      ),
    }),
    e,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

/** A fresh /64 per run: the local limiter's windows outlive a test. */
const net = () =>
  `2001:db8:${crypto
    .getRandomValues(new Uint16Array(2))
    .join(':')
    .replace(/\d+/g, (n) => Number(n).toString(16))}`;

describe('POST /v1/events rate limit', () => {
  it('answers a client past the limit 429 with Retry-After and a JSON error; other clients go on', async () => {
    const client = net();
    // the first LOW requests always pass: however the windows fall, no window has seen more
    for (let i = 0; i < LOW; i++) expect((await beacon(`${client}::1`, `ok-${i}`)).status).toBe(200);
    // the fixed window may roll over once during the test, so allow up to LOW more before the 429
    let throttled: Response | undefined;
    for (let i = 0; i <= LOW && throttled === undefined; i++) {
      const res = await beacon(`${client}::1`, `more-${i}`);
      if (res.status === 429) throttled = res;
      else expect(res.status).toBe(200);
    }
    expect(throttled, 'never throttled').toBeDefined();
    expect(throttled!.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
    expect(throttled!.headers.get('content-type')).toMatch(/^application\/json/);
    expect(throttled!.headers.get('access-control-expose-headers')).toContain('retry-after'); // readable by a cross-origin fetch
    expect(await throttled!.json()).toEqual({
      error: { code: 'rate_limited', message: expect.stringContaining(`retry after ${RETRY_AFTER_SECONDS} s`) },
    });
    // another address of the same /64 is the same client
    expect((await beacon(`${client}:0:0:0:beef`, 'same-net')).status).toBe(429);
    // other clients are unaffected
    expect((await beacon(`${net()}::1`, 'other-v6')).status).toBe(200);
    expect((await beacon(`203.0.113.${1 + Math.floor(Math.random() * 250)}`, 'other-v4')).status).toBe(200);
  });

  it('counts a request one unit per EVENTS_PER_UNIT events: a beacon is one, a batch of 500 is ten', async () => {
    // LOW full beacons pass: EVENTS_PER_UNIT events are still one unit
    const beacons = net();
    for (let i = 0; i < LOW; i++) expect((await beacon(`${beacons}::1`, `full-${i}`, lowEnv, EVENTS_PER_UNIT)).status).toBe(200);
    // two batches of LOW + 1 units each: however the window falls, one of them is refused
    const server = net();
    const events = LOW * EVENTS_PER_UNIT + 1;
    const answers = [await beacon(`${server}::1`, 'heavy-a', lowEnv, events), await beacon(`${server}::1`, 'heavy-b', lowEnv, events)];
    const refused = answers.find((r) => r.status === 429);
    expect(refused, 'never throttled').toBeDefined();
    expect(refused!.headers.get('retry-after')).toBe(String(RETRY_AFTER_SECONDS));
    expect(await refused!.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining('EVENTS_LIMITER') } });
  });

  it('does not count loopback (npm start, benches) or requests without CF-Connecting-IP (tests, service bindings)', async () => {
    for (let i = 0; i < LOW * 2 + 2; i++) {
      expect((await beacon(null, `inside-${i}`)).status).toBe(200);
      expect((await beacon('127.0.0.1', `loop4-${i}`)).status).toBe(200);
      expect((await beacon('::1', `loop6-${i}`)).status).toBe(200);
    }
  });

  it('the production limit (wrangler.toml) lets a busy shared address through: 300 beacons at once from one office NAT', async () => {
    expect(typeof env.EVENTS_LIMITER.limit).toBe('function'); // wrangler.toml's binding, as deployed
    const office = `198.51.100.${1 + Math.floor(Math.random() * 250)}`;
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        postJson('/v1/events', [{ id: `office-${office}-${i}`, name: 'click' }], { 'cf-connecting-ip': office }),
      ),
    );
    expect(answers.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
  });

  it('keys clients by address, IPv6 by its /64, and leaves loopback and missing addresses out', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('2001:0db8:0000:0000:ffff:1:2:3')).toBe('2001:db8:0:0::/64');
    expect(clientKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    for (const inside of [undefined, '', '127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])
      expect(clientKey(inside), String(inside)).toBeNull();
  });
});
