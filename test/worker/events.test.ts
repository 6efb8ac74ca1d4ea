import { describe, expect, it } from 'vitest';
import { hashVisitor } from '../../src/core/decision-record.ts';
import { EVENT_LIMITS } from '../../src/worker/events/event-schema.ts';
import { intakeEvents } from '../../src/worker/events/event-intake.ts';
import { fetchWorker, postJson } from './helpers.ts';

interface EventsAnswer {
  accepted: number;
  rejected: { index: number; field: string; reason: string }[];
  duplicates: number;
  ids: string[];
}

describe('POST /v1/events', () => {
  it('accepts the valid events of a mixed batch and names each rejected one', async () => {
    const res = await postJson('/v1/events', [
      { name: 'click', decisionId: 'd1', visitorId: 'visitor-0001', id: 'e1' },
      { name: 'explode' },
      { name: 'purchase', value: 12.5, currency: 'EUR', items: [{ id: 'sku-1', price: -3 }] },
      { name: 'impression', viewable: { share: 0.8, ms: 1200 }, id: 'e2' },
      'not an object',
      { name: 'conversion', value: 3, currency: 'euro' },
    ]);
    expect(res.status).toBe(200);
    const body = await res.json<EventsAnswer>();
    expect(body.accepted).toBe(2);
    expect(body.ids).toEqual(['e1', 'e2']);
    expect(body.rejected.map((r) => [r.index, r.field])).toEqual([
      [1, 'name'],
      [2, 'items[0].price'],
      [4, '(event)'],
      [5, 'currency'],
    ]);
    for (const r of body.rejected) expect(r.reason.length).toBeGreaterThan(0);
  });

  it('takes a sendBeacon text/plain body and the { events } wrapper, with CORS for browsers', async () => {
    const res = await fetchWorker('/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: 'https://shop.example', cookie: 'att_vid=cookie-visitor-1' },
      body: JSON.stringify({ events: [{ name: 'click', decisionId: 'd9' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect((await res.json<EventsAnswer>()).accepted).toBe(1);
  });

  it('answers a browser preflight for JSON bodies', async () => {
    const res = await fetchWorker('/v1/events', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toContain('content-type');
  });

  it('answers 400 naming the field when no event is valid', async () => {
    const res = await postJson('/v1/events', [{ name: 'click', value: 'lots' }]);
    expect(res.status).toBe(400);
    const body = await res.json<EventsAnswer & { error: { field: string } }>();
    expect(body.accepted).toBe(0);
    expect(body.error.field).toBe('[0].value');
    expect((await postJson('/v1/events', 'nope{')).status).toBe(400);
    expect((await postJson('/v1/events', { events: 'x' })).status).toBe(400);
    expect((await postJson('/v1/events', [])).status).toBe(400);
  });

  it('refuses oversize bodies and batches with 413', async () => {
    const big = 'x'.repeat(EVENT_LIMITS.bodyBytes);
    const res = await postJson('/v1/events', [{ name: 'goal', goal: 'g', props: { pad: big } }]);
    expect(res.status).toBe(413);
    const many = Array.from({ length: EVENT_LIMITS.events + 1 }, () => ({ name: 'page' }));
    const res2 = await postJson('/v1/events', many);
    expect(res2.status).toBe(413);
    expect((await res2.json<{ error: { code: string } }>()).error.code).toBe('batch_too_large');
  });

  it('refuses with 413 a batch of more events, items and properties in all than EVENT_LIMITS.parts, and takes a full ordinary one', async () => {
    // 120 events of 100 items each: every event is within its own limits, the batch is not
    const item = (k: number) => ({ id: `sku-${k}`, price: 1, qty: 1 });
    const heavy = Array.from({ length: 120 }, (_, i) => ({
      id: `heavy-${i}`,
      name: 'purchase',
      items: Array.from({ length: 100 }, (_, k) => item(k)),
    }));
    const res = await postJson('/v1/events', heavy);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: {
        code: 'batch_too_large',
        field: '(body)',
        message: expect.stringContaining(`at most ${EVENT_LIMITS.parts} events, items and properties`),
      },
    });
    // the same through Segment: properties and properties.products count
    const products = Array.from({ length: 100 }, (_, k) => ({ product_id: `sku-${k}`, price: 1 }));
    const segment = {
      batch: Array.from({ length: 120 }, (_, i) => ({
        type: 'track',
        event: 'Order Completed',
        messageId: `seg-heavy-${i}`,
        anonymousId: 'anon-12345678',
        properties: { products },
      })),
    };
    expect((await postJson('/v1/events', segment)).status).toBe(413);
    // a full server batch of ordinary size: 500 Segment tracks of 8 properties and 3 products
    const ordinary = {
      batch: Array.from({ length: 500 }, (_, i) => ({
        type: 'track',
        event: 'Order Completed',
        messageId: `seg-ok-${i}`,
        anonymousId: 'anon-12345678',
        properties: { ...Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`p${k}`, `v${k}`])), products: products.slice(0, 3) },
      })),
    };
    const ok = await postJson('/v1/events', ordinary);
    expect(ok.status).toBe(200);
    expect((await ok.json<EventsAnswer>()).accepted).toBe(500);
  });

  it('queues a batch whose events are large in UTF-8 though short in characters (the queue counts bytes)', async () => {
    const cjk = '漢'.repeat(512); // 512 characters, 1,536 bytes
    const props = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`p${i}`, cjk]));
    const events = Array.from({ length: 7 }, (_, i) => ({ name: 'goal', goal: 'big', id: `big-${i}`, props }));
    const res = await postJson('/v1/events', events); // ~345 KB of UTF-8 in ~120k characters
    expect(res.status).toBe(200);
    expect((await res.json<EventsAnswer>()).accepted).toBe(7);
  });

  it('refuses one event too big for a queue message on its own, and queues the rest', async () => {
    const escaped = '\u0001'.repeat(512); // 6 bytes each once logged as JSON
    const big = {
      name: 'goal',
      goal: 'huge',
      props: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`p${i}`, escaped])),
      items: Array.from({ length: 100 }, () => ({ id: escaped.slice(0, 128) })),
    };
    const res = await postJson('/v1/events', [{ name: 'click', id: 'small-1' }, big]);
    expect(res.status).toBe(200);
    const body = await res.json<EventsAnswer>();
    expect(body.ids).toEqual(['small-1']);
    expect(body.rejected).toEqual([{ index: 1, field: '(event)', reason: expect.stringContaining('KB') }]);
  });

  it('maps Segment track, page, identify and batch calls', async () => {
    const res = await postJson('/v1/events', {
      batch: [
        {
          type: 'track',
          event: 'Order Completed',
          messageId: 'seg-1',
          anonymousId: 'anon-1',
          timestamp: '2026-11-23T10:00:00Z',
          properties: {
            revenue: 42,
            currency: 'usd',
            decisionId: 'd5',
            products: [{ product_id: 'p1', price: 21, quantity: 2 }],
            coupon: 'X',
          },
        },
        { type: 'track', event: 'Product Clicked', messageId: 'seg-2', properties: { decision_id: 'd6' } },
        { type: 'track', event: 'Newsletter Signup', messageId: 'seg-3' },
        { type: 'page', name: 'Pricing', messageId: 'seg-4', properties: { path: '/pricing' } },
        { type: 'identify', userId: 'user-7', anonymousId: 'anon-1', traits: { email: 'a@b.c' }, messageId: 'seg-5' },
        { type: 'alias', previousId: 'x' },
      ],
    });
    expect(res.status).toBe(200);
    const body = await res.json<EventsAnswer>();
    expect(body.accepted).toBe(5);
    expect(body.rejected).toEqual([{ index: 5, field: 'type', reason: expect.any(String) }]);
  });
});

describe('intakeEvents (normalization)', () => {
  const now = Date.UTC(2026, 10, 23, 12);

  it('normalizes Segment and native events to outcome events', () => {
    const { accepted } = intakeEvents(
      [
        {
          type: 'track',
          event: 'Order Completed',
          messageId: 'seg-1',
          anonymousId: 'anon-1',
          timestamp: '2026-11-23T10:00:00Z',
          properties: {
            revenue: 42,
            currency: 'usd',
            decisionId: 'd5',
            products: [{ product_id: 'p1', price: 21, quantity: 2 }],
            coupon: 'X',
          },
        },
        { type: 'identify', userId: 'user-7', anonymousId: 'anon-1', traits: { email: 'a@b.c' } },
        { name: 'click', ts: now + 60_000, visitorId: 'v-123456' },
      ],
      undefined,
      now,
    );
    expect(accepted[0]).toEqual({
      type: 'outcome',
      v: 1,
      id: 'seg-1',
      ts: Date.parse('2026-11-23T10:00:00Z'),
      receivedAt: now,
      name: 'purchase',
      decisionId: 'd5',
      visitor: hashVisitor('anon-1'),
      value: 42,
      currency: 'USD',
      items: [{ id: 'p1', price: 21, quantity: 2 }],
      props: { coupon: 'X' },
    });
    expect(accepted[1]).toMatchObject({
      name: 'goal',
      goal: 'identify',
      visitor: hashVisitor('anon-1'),
      props: { user: hashVisitor('user-7') },
    });
    expect(JSON.stringify(accepted[1])).not.toContain('a@b.c');
    expect(accepted[2]).toMatchObject({ name: 'click', ts: now, visitor: hashVisitor('v-123456') });
  });

  it("names the caller's own Segment field when a mapped value breaks the rules, and drops what loose mapping cannot keep", () => {
    const bad = intakeEvents([{ type: 'track', event: 'Clicked', messageId: 'm1', timestamp: '0000-01-01T00:00:00Z' }], undefined, now);
    expect(bad.rejected).toEqual([{ index: 0, field: 'timestamp', reason: expect.any(String) }]);
    const big = intakeEvents(
      [
        {
          type: 'track',
          event: 'Order Completed',
          messageId: 'm2',
          properties: { revenue: 5, products: [{ product_id: 'p1', quantity: 1e20 }], __proto__x: 1 },
        },
      ],
      undefined,
      now,
    );
    expect(big.rejected).toEqual([]);
    expect(big.accepted[0]!.items).toEqual([{ id: 'p1' }]);
  });

  it('refuses a native "__proto__" property rather than silently losing it', () => {
    const r = intakeEvents([JSON.parse('{"name":"click","props":{"__proto__":{"x":1}}}')], undefined, now);
    expect(r.rejected).toEqual([{ index: 0, field: 'props.__proto__', reason: 'a reserved name' }]);
  });

  it('refuses the ad notice names, which only the signed notice routes write', () => {
    for (const name of ['win', 'loss', 'billing']) {
      const { accepted, rejected } = intakeEvents([{ name, decisionId: 'any', props: { bid: 2, pub: 'p1' } }], undefined, now);
      expect(accepted).toEqual([]);
      expect(rejected).toEqual([{ index: 0, field: 'name', reason: expect.any(String) }]);
    }
  });

  it('gives two id-less, ts-less events of the same content at different times different ids', () => {
    const click = { name: 'purchase', decisionId: 'd1', value: 10 };
    const a = intakeEvents([click], 'visitor-abc', now).accepted[0]!;
    const b = intakeEvents([click], 'visitor-abc', now + 3_600_000).accepted[0]!;
    expect(a.id).not.toBe(b.id);
    // with a client ts, a resend keeps its id
    const withTs = { ...click, ts: now - 1000 };
    expect(intakeEvents([withTs], 'visitor-abc', now).accepted[0]!.id).toBe(
      intakeEvents([withTs], 'visitor-abc', now + 5000).accepted[0]!.id,
    );
  });

  it('gives every id-less, ts-less event its own id, even identical ones in one request at one instant', () => {
    const purchase = { name: 'purchase', value: 10, currency: 'EUR', items: [{ id: 'p1', price: 10, quantity: 1 }] };
    const { accepted, duplicates } = intakeEvents(
      Array.from({ length: 16 }, () => purchase),
      'server-visitor',
      now,
    );
    expect(accepted).toHaveLength(16);
    expect(duplicates).toBe(0);
    expect(new Set(accepted.map((e) => e.id)).size).toBe(16);
    for (const e of accepted) expect(e.id).toMatch(/^r-[0-9a-f-]{36}$/);
    // a second request at the same instant (concurrent intake) gets new ids too
    const again = intakeEvents([purchase], 'server-visitor', now).accepted[0]!;
    expect(accepted.map((e) => e.id)).not.toContain(again.id);
    // with a ts, identical events in one request are one event (the content id), as documented
    const withTs = intakeEvents(
      [
        { ...purchase, ts: now - 1000 },
        { ...purchase, ts: now - 1000 },
      ],
      'server-visitor',
      now,
    );
    expect(withTs.accepted).toHaveLength(1);
    expect(withTs.duplicates).toBe(1);
  });

  it("records the request's country on each event, outside the content id (a resend through another location keeps its ids)", () => {
    const e = { name: 'add_to_cart', ts: now - 1000, items: [{ id: 'p1' }] };
    const fr = intakeEvents([e], 'visitor-abc', now, Infinity, 'FR').accepted[0]!;
    expect(fr.country).toBe('FR');
    const de = intakeEvents([e], 'visitor-abc', now, Infinity, 'DE').accepted[0]!;
    expect(de.id).toBe(fr.id);
    for (const odd of [undefined, 'T1', 'fr', 'XXX'])
      expect(intakeEvents([e], 'visitor-abc', now, Infinity, odd).accepted[0]!.country).toBeUndefined();
  });

  it('gives id-less events a content id, so a resent batch keeps its ids, and drops repeats within a request', () => {
    const batch = [
      { name: 'click', decisionId: 'd1', ts: now - 1000 },
      { name: 'click', decisionId: 'd2', ts: now - 1000 },
    ];
    const a = intakeEvents(batch, 'cookie-visitor', now);
    const b = intakeEvents(batch, 'cookie-visitor', now + 5000);
    expect(a.accepted.map((e) => e.id)).toEqual(b.accepted.map((e) => e.id));
    expect(a.accepted[0]!.id).not.toBe(a.accepted[1]!.id);
    expect(a.accepted[0]!.visitor).toBe(hashVisitor('cookie-visitor'));
    const twice = intakeEvents([...batch, batch[0]], undefined, now);
    expect(twice.accepted).toHaveLength(2);
    expect(twice.duplicates).toBe(1);
  });

  it('clamps client clocks to the attribution horizon', () => {
    const { accepted } = intakeEvents([{ name: 'page', ts: 1 }], undefined, now);
    expect(accepted[0]!.ts).toBe(now - EVENT_LIMITS.maxAgeMs);
  });
});
