/** /v1/decide after the decision step moved to decide-slots.ts: same answers, same cookies. */
import { describe, expect, it } from 'vitest';
import { cookieHeader, cookiesOf, fetchWorker, linearBlob, postJson, publish, resetCaches } from './helpers.ts';

describe('POST /v1/decide', () => {
  it('decides candidate and model slots, sticky for the visitor', async () => {
    resetCaches();
    expect((await publish(linearBlob({ name: 'dr-model', version: 'v1', variants: ['a', 'b'], biasBy: { b: 2 } }))).status).toBeLessThan(
      300,
    );
    const body = {
      slots: [
        { id: 'x', candidates: ['only'] },
        { id: 'y', model: 'dr-model' },
      ],
    };
    const res = await postJson('/v1/decide', body);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    const j = await res.json<{
      visitorId: string;
      decisions: { slot: string; variant: string; sticky: boolean; decisionId: string; model: unknown }[];
    }>();
    expect(j.decisions.map((d) => [d.slot, d.variant, d.sticky])).toEqual([
      ['x', 'only', false],
      ['y', 'b', false],
    ]);
    expect(j.decisions[1]!.model).toEqual({ name: 'dr-model', version: 'v1' });
    const again = await postJson('/v1/decide', body, { cookie: cookieHeader(cookiesOf(res)) });
    const k = await again.json<typeof j>();
    expect(k.visitorId).toBe(j.visitorId);
    expect(k.decisions.map((d) => d.sticky)).toEqual([true, true]);
  });

  it('refuses slot ids the fallback header could not carry (line breaks, non-ASCII) with a 400, not a 500', async () => {
    for (const id of ['a\nb', 'a\r\nset-cookie: x=1', '漢']) {
      const res = await postJson('/v1/decide', { slots: [{ id, model: 'never-published-x', candidates: ['zzz'] }] });
      expect(res.status, JSON.stringify(id)).toBe(400);
      expect(((await res.json()) as { error: { field: string } }).error.field).toBe('slots[0].id');
    }
    const recs = await fetchWorker('/v1/recommend?slot=a%0Ab');
    expect(recs.status).toBe(400);
    expect(((await recs.json()) as { error: { field: string } }).error.field).toBe('slot');
  });

  it('refuses repeated candidates, whose logged propensity would be wrong, naming the field', async () => {
    const res = await postJson('/v1/decide', { slots: [{ id: 'hero', candidates: ['a', 'a', 'a', 'b'] }] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe('slots[0].candidates');
  });

  it('under Global Privacy Control, Do Not Track or track: false (no consent), decides but sets no cookie and logs nothing', async () => {
    const { env } = await import('cloudflare:workers');
    const { vi } = await import('vitest');
    const { FLUSH_MS } = await import('../../src/worker/log/log-producer.ts');
    await new Promise((r) => setTimeout(r, FLUSH_MS + 50)); // earlier tests' coalesced log batches flush first
    const spy = vi.spyOn(env.EVENTS, 'send');
    for (const [header, track] of [
      [{ 'sec-gpc': '1' }, undefined],
      [{ dnt: '1' }, undefined],
      [{}, false],
    ] as [Record<string, string>, boolean | undefined][]) {
      const res = await postJson(
        '/v1/decide',
        { slots: [{ id: 'x', candidates: ['a', 'b'] }], ...(track === false ? { track } : {}) },
        header,
      );
      expect(res.status).toBe(200);
      expect(((await res.json()) as { decisions: { variant: string }[] }).decisions[0]!.variant).toMatch(/^[ab]$/);
      expect(res.headers.getSetCookie()).toEqual([]);
      expect(res.headers.get('cache-control')).toContain('no-store');
    }
    await new Promise((r) => setTimeout(r, FLUSH_MS + 50)); // past the log's coalescing window
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });

  it('with strict: true, names the slot of an unknown model in a 404', async () => {
    const res = await postJson('/v1/decide', { strict: true, slots: [{ id: 'x', model: 'nope-never' }] });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'unknown_model', field: 'slots[0].model' } });
  });
});
