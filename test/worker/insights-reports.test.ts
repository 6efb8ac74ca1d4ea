// The insights reports on the admin page: listed newest first and opened as published, from the
// real local R2 bucket, behind ADMIN_HOST and the admin session; bad names are a 400 naming the
// rule, unknown ones a 404, and a report is served under a CSP that runs nothing.
import { env, exports } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { reportKey, reportName } from '../../src/core/report-keys.ts';
import { cookiesOf, resetCaches } from './helpers.ts';

const fetchAdmin = (path: string, init?: RequestInit) => exports.default.fetch(new Request(`http://admin.attune.test${path}`, init));

beforeEach(resetCaches);

async function signIn(): Promise<string> {
  const res = await fetchAdmin('/ui/experiments/login', {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: env.ADMIN_TOKEN }).toString(),
  });
  expect(res.status).toBe(303);
  return `att_admin=${cookiesOf(res).att_admin}`;
}

describe('insights reports page', () => {
  it('lists published reports newest first and opens one as published', async () => {
    const older = reportName('default', Date.UTC(2026, 10, 1), Date.UTC(2026, 10, 2));
    const newer = reportName('default', Date.UTC(2026, 10, 2), Date.UTC(2026, 10, 3));
    await env.LOG.put(reportKey(older, 'html'), '<!doctype html><p>older report</p>');
    await new Promise((r) => setTimeout(r, 20)); // distinct upload times
    await env.LOG.put(reportKey(newer, 'html'), '<!doctype html><p>newer report</p>');
    await env.LOG.put(reportKey(newer, 'json'), '{"findings":[]}');
    const cookie = await signIn();
    const list = await fetchAdmin('/ui/experiments/_reports', { headers: { cookie } });
    expect(list.status).toBe(200);
    const page = await list.text();
    const a = page.indexOf(`href="/ui/experiments/_reports/${newer}"`);
    const b = page.indexOf(`href="/ui/experiments/_reports/${older}"`);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(a);
    expect(page).not.toContain('.json');
    const one = await fetchAdmin(`/ui/experiments/_reports/${newer}`, { headers: { cookie } });
    expect(one.status).toBe(200);
    expect(await one.text()).toBe('<!doctype html><p>newer report</p>');
    expect(one.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(one.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('needs the admin session and the admin host', async () => {
    const anon = await fetchAdmin('/ui/experiments/_reports', { redirect: 'manual' });
    expect(anon.status).toBe(303);
    expect(anon.headers.get('location')).toBe('/ui/experiments/login');
    const name = reportName('default', Date.UTC(2026, 10, 1), Date.UTC(2026, 10, 2));
    expect((await fetchAdmin(`/ui/experiments/_reports/${name}`, { redirect: 'manual' })).status).toBe(303);
    const cookie = await signIn();
    const elsewhere = await exports.default.fetch(new Request('http://shop.attune.test/ui/experiments/_reports', { headers: { cookie } }));
    expect(elsewhere.status).toBe(404);
  });

  it('answers a malformed name with a 400 naming the field, an unknown one with a 404', async () => {
    const cookie = await signIn();
    const bad = await fetchAdmin('/ui/experiments/_reports/default/..%2F..%2Fsecret', { headers: { cookie } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('name');
    const missing = await fetchAdmin(`/ui/experiments/_reports/${reportName('default', 0, 1)}`, { headers: { cookie } });
    expect(missing.status).toBe(404);
  });
});
