import { env, exports } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { forwardToExperiments } from '../../src/worker/experiments/forward.ts';
import { exposure, outcome } from './experiment-helpers.ts';
import { cookiesOf, fetchWorker, resetCaches } from './helpers.ts';

/** The admin page answers on ADMIN_HOST only in proxy mode (vitest.config.ts: admin.attune.test). */
const fetchAdmin = (path: string, init?: RequestInit) => exports.default.fetch(new Request(`http://admin.attune.test${path}`, init));

beforeEach(resetCaches);

const form = (fields: Record<string, string>, cookie?: string) => ({
  method: 'POST',
  redirect: 'manual' as const,
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
  body: new URLSearchParams(fields).toString(),
});

async function signIn(): Promise<string> {
  const res = await fetchAdmin('/ui/experiments/login', form({ token: env.ADMIN_TOKEN }));
  expect(res.status).toBe(303);
  const set = res.headers.getSetCookie()[0]!;
  expect(set).toMatch(/HttpOnly/i);
  expect(set).toMatch(/SameSite=Strict/i);
  expect(set).not.toContain(env.ADMIN_TOKEN); // a signed session, not the token
  return `att_admin=${cookiesOf(res).att_admin}`;
}

describe('admin page', () => {
  it('sends visitors without the admin cookie to the login form and refuses wrong tokens', async () => {
    const res = await fetchAdmin('/ui/experiments', { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/ui/experiments/login');
    expect((await fetchAdmin('/ui/experiments/login', form({ token: 'nope' }))).status).toBe(401);
    expect((await fetchAdmin('/ui/experiments', form({ key: 'x' }))).status).toBe(401);
    expect((await fetchAdmin('/ui/experiments', { headers: { cookie: 'att_admin=nope' }, redirect: 'manual' })).status).toBe(303);
    // a session whose expiry has passed, correctly signed, is refused too
    const { sign } = await import('../../src/worker/shared/signing.ts');
    const old = `admin-ui:${'0'.repeat(32)}:${Date.now() - 1000}`;
    const expired = await fetchAdmin('/ui/experiments', {
      headers: { cookie: `att_admin=${encodeURIComponent(`${old}.${sign(env.ADMIN_TOKEN, old)}`)}` },
      redirect: 'manual',
    });
    expect(expired.status).toBe(303);
  });

  it('answers a malformed or oversize login post with a 4xx naming the problem, never a 500', async () => {
    const multipart = await fetchAdmin('/ui/experiments/login', {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=zzz' },
      body: 'garbage',
    });
    expect(multipart.status).toBe(415);
    expect(((await multipart.json()) as { error: { field: string } }).error.field).toBe('content-type');
    const huge = await fetchAdmin('/ui/experiments/login', form({ token: 'x'.repeat(64 * 1024) }));
    expect(huge.status).toBe(413);
  });

  it('creates, launches and stops a test through forms, and charts its snapshots', async () => {
    const cookie = await signIn();
    const bad = await fetchAdmin('/ui/experiments', form({ key: 'pg', name: 'Page test', arms: 'only | one arm', goals: 'click' }, cookie));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('field: arms');

    const created = await fetchAdmin(
      '/ui/experiments',
      form(
        {
          key: 'pg',
          name: 'Page test',
          arms: 'calm | Start your trial\nbold | <b>Try it free</b>',
          payloadType: 'html',
          goals: 'click, signup',
          algorithm: 'top-two-thompson',
          floor: '0.05',
          traffic: '1',
          publishSeconds: '1',
        },
        cookie,
      ),
    );
    expect(created.status).toBe(303);
    expect(created.headers.get('location')).toBe('/ui/experiments/pg');
    const api = (await (
      await fetchWorker('/admin/experiments/pg', { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } })
    ).json()) as Record<string, any>;
    expect(api).toMatchObject({
      status: 'draft',
      goals: ['click', 'signup'],
      algorithm: { name: 'top-two-thompson', floor: 0.05 },
      arms: [{ key: 'calm', payload: { type: 'html', value: 'Start your trial' } }, { key: 'bold' }],
    });

    expect((await fetchAdmin('/ui/experiments/pg/launch', form({}, cookie))).status).toBe(303);
    await forwardToExperiments(env, [exposure('pg', 'pg1', 'v1', 'bold', Date.now()), outcome('pg', 'pgo', 'v1', Date.now() + 1)]);
    await new Promise((r) => setTimeout(r, 1500));
    const detail = await (await fetchAdmin('/ui/experiments/pg', { headers: { cookie } })).text();
    expect(detail).toContain('<span class="badge running" id="status">running</span>');
    expect(detail).toContain('<svg id="allocation-chart"');
    expect(detail).toContain('<svg id="pbest-chart"');
    expect(detail).toMatch(/<polyline class="series" data-arm="bold"/);
    expect(detail).toContain('&lt;b&gt;Try it free&lt;/b&gt;'); // payloads are escaped in the page

    const noop = await fetchAdmin('/ui/experiments/pg/resume', form({}, cookie));
    expect(noop.status).toBe(303); // resume of a running test is an idempotent no-op
    const asked = await fetchAdmin('/ui/experiments/pg/stop', form({ winner: 'bold' }, cookie));
    expect(asked.status).toBe(200); // a confirmation first
    expect(await asked.text()).toContain('every visitor will get bold');
    const stopped = await fetchAdmin('/ui/experiments/pg/stop', form({ winner: 'bold', confirm: 'yes' }, cookie));
    expect(stopped.status).toBe(303);
    const resume = await fetchAdmin('/ui/experiments/pg/resume', form({}, cookie));
    expect(resume.status).toBe(409);
    expect(await resume.text()).toContain('cannot resume a stopped experiment');
    const cross = await fetchAdmin('/ui/experiments/pg/archive', {
      ...form({}, cookie),
      headers: { ...form({}, cookie).headers, origin: 'https://evil.example' },
    });
    expect(cross.status).toBe(403);
  });
});
