import { beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, fetchWorker, linearBlob, postJson, publish, resetAll } from './helpers.ts';

beforeEach(resetAll);

async function expectError(res: Response, status: number, field?: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/json');
  const body = await res.json<any>();
  expect(body.error.code).toBeTruthy();
  expect(body.error.message).toBeTruthy();
  if (field !== undefined) expect(body.error.field).toBe(field);
  return body;
}

describe('bad input gets a 4xx naming the field', () => {
  it.each([
    ['not JSON', '{"slots": [', '(body)'],
    ['empty body', '', '(body)'],
    ['null', 'null', '(body)'],
    ['an array', '[]', '(body)'],
    ['no slots', {}, 'slots'],
    ['slots not an array', { slots: 'hero' }, 'slots'],
    ['zero slots', { slots: [] }, 'slots'],
    ['17 slots', { slots: Array.from({ length: 17 }, (_, i) => ({ id: `s${i}`, candidates: ['a'] })) }, 'slots'],
    [
      'duplicate slot ids',
      {
        slots: [
          { id: 'a', candidates: ['x'] },
          { id: 'a', candidates: ['y'] },
        ],
      },
      'slots',
    ],
    ['slot without candidates or model', { slots: [{ id: 'a' }] }, 'slots'],
    ['numeric slot id', { slots: [{ id: 7, candidates: ['x'] }] }, 'slots[0].id'],
    ['33 candidates', { slots: [{ id: 'a', candidates: Array.from({ length: 33 }, (_, i) => `v${i}`) }] }, 'slots[0].candidates'],
    ['empty candidate', { slots: [{ id: 'a', candidates: [''] }] }, 'slots[0].candidates[0]'],
    ['bad model name', { slots: [{ id: 'a', model: 'Hero Model!' }] }, 'slots[0].model'],
    ['bad visitor id', { visitorId: 'x', slots: [{ id: 'a', candidates: ['x'] }] }, 'visitorId'],
    ['page url not a URL', { page: { url: 'not a url' }, slots: [{ id: 'a', candidates: ['x'] }] }, 'page.url'],
    ['attribute object value', { attributes: { plan: { tier: 1 } }, slots: [{ id: 'a', candidates: ['x'] }] }, 'attributes.plan'],
    [
      '33 attributes',
      { attributes: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])), slots: [{ id: 'a', candidates: ['x'] }] },
      'attributes',
    ],
  ])('%s → 400', async (_, body, field) => {
    await expectError(await postJson('/v1/decide', body), 400, field);
  });

  it('an oversize body → 413, also when chunked without a length', async () => {
    const big = JSON.stringify({ slots: [{ id: 'a', candidates: ['x'] }], pad: 'x'.repeat(70_000) });
    await expectError(await postJson('/v1/decide', big), 413);
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(new TextEncoder().encode('x'.repeat(5000)));
        c.close();
      },
    });
    await expectError(
      await fetchWorker('/v1/decide', { method: 'POST', body: stream, headers: { 'content-type': 'application/json' } }),
      413,
    );
  });

  it('an unknown model with strict: true → 404 naming the slot field', async () => {
    const body = await expectError(
      await postJson('/v1/decide', {
        strict: true,
        slots: [
          { id: 'a', candidates: ['x'] },
          { id: 'b', model: 'never-published' },
        ],
      }),
      404,
      'slots[1].model',
    );
    expect(body.error.code).toBe('unknown_model');
    await expectError(await postJson('/v1/score', { strict: true, models: ['never-published'] }), 404, 'models[0]');
    await expectError(await postJson('/v1/decide', { strict: 'yes', slots: [{ id: 'a', candidates: ['x'] }] }), 400, 'strict');
  });

  it('unknown routes and methods → 404 JSON', async () => {
    await expectError(await fetchWorker('/v1/nothing'), 404); // API paths are never proxied to the origin
    await expectError(await fetchWorker('/admin/nothing', { headers: ADMIN }), 404);
    await expectError(await fetchWorker('/v1/decide'), 404);
  });
});

describe('admin API requires auth', () => {
  it('401 without or with a wrong token, 200 with the right one', async () => {
    await expectError(await fetchWorker('/admin/models'), 401);
    await expectError(await fetchWorker('/admin/models', { headers: { authorization: 'Bearer wrong' } }), 401);
    await expectError(await fetchWorker('/admin/models', { method: 'PUT', body: new Uint8Array(8) }), 401);
    expect((await fetchWorker('/admin/models', { headers: ADMIN })).status).toBe(200);
  });

  it('lists and inspects published models; refuses garbage and rewrites', async () => {
    const blob = linearBlob({ name: 'm1', version: 'v1', variants: ['a', 'b'] });
    await publish(blob);
    const list = await (await fetchWorker('/admin/models', { headers: ADMIN })).json<any>();
    expect(list.models.map((m: any) => m.name)).toEqual(['m1']);
    const info = await (await fetchWorker('/admin/models/m1', { headers: ADMIN })).json<any>();
    expect(info).toMatchObject({ manifest: { active: 'v1' }, active: { kind: 'linear', meta: { variants: ['a', 'b'] } } });
    await expectError(await publish(new Uint8Array([1, 2, 3, 4, 5])), 400);
    await expectError(await publish(linearBlob({ name: 'm1', version: 'v1', variants: ['a', 'c'] })), 409);
    await expectError(await fetchWorker('/admin/models/m1/activate', { method: 'POST', headers: ADMIN, body: '{"version":"v9"}' }), 404);
    await expectError(await fetchWorker('/admin/models/m1/rollback', { method: 'POST', headers: ADMIN }), 409);
  });
});
