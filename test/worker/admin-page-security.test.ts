/**
 * The admin page's defences: it answers only on its own host in proxy mode (ADMIN_HOST), which
 * is never proxied; signing out ends the session (a replayed cookie goes back to the login);
 * a session is never taken as lasting past 8 hours; signing out, like every form, refuses a
 * foreign Origin; and failed sign-ins are throttled per address.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { AUTH_RETRY_AFTER_SECONDS, clearAuthBlocks } from '../../src/worker/shared/auth-rate-limit.ts';
import { sign } from '../../src/worker/shared/signing.ts';
import worker from '../../src/worker/index.ts';
import { cookiesOf, postJson, resetCaches } from './helpers.ts';

const ADMIN_HOST = 'http://admin.attune.test';

beforeEach(() => {
  resetCaches();
  clearAuthBlocks();
});

const at = (origin: string, path: string, init?: RequestInit) => exports.default.fetch(new Request(`${origin}${path}`, init));

/** The Worker with other settings than the test bindings (a new env: the settings are parsed for it). */
async function withEnv(over: Record<string, string | undefined>, url: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(url, init), { ...env, ...over } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const form = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(fields).toString(),
});

async function signIn(): Promise<string> {
  const res = await at(ADMIN_HOST, '/ui/experiments/login', form({ token: env.ADMIN_TOKEN }));
  expect(res.status).toBe(303);
  const set = res.headers.getSetCookie()[0]!;
  expect(set).toMatch(/Path=\/ui\/experiments/);
  expect(set).toMatch(/HttpOnly/i);
  expect(set).toMatch(/SameSite=Strict/i);
  return `att_admin=${cookiesOf(res).att_admin}`;
}

const list = (cookie: string) => at(ADMIN_HOST, '/ui/experiments', { headers: { cookie }, redirect: 'manual' });

/** A random client address: the local limiter's windows outlive a test. */
const address = () => `198.51.100.${1 + Math.floor(Math.random() * 250)}`;
const v6 = () => `2001:db8:${Math.floor(Math.random() * 65535).toString(16)}:${Math.floor(Math.random() * 65535).toString(16)}::1`;

describe('where the admin page answers', () => {
  it('in proxy mode, only on ADMIN_HOST: 404 on the proxied site host, whatever the path', async () => {
    for (const path of ['/ui/experiments', '/ui/experiments/login', '/ui/experiments/x']) {
      const res = await at('http://attune.test', path, { redirect: 'manual' });
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
    const post = await at('http://attune.test', '/ui/experiments/login', form({ token: env.ADMIN_TOKEN }));
    expect(post.status).toBe(404);
    expect(post.headers.getSetCookie()).toEqual([]);
    // on the admin host it works
    expect((await at(ADMIN_HOST, '/ui/experiments/login')).status).toBe(200);
    expect((await list(await signIn())).status).toBe(200);
  });

  it('the admin host is never proxied: no site page shares its origin', async () => {
    expect((await at('http://attune.test', '/fragment')).status).toBe(200); // the test origin's page (one that needs no shared data)
    const res = await at(ADMIN_HOST, '/fragment');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('in proxy mode without ADMIN_HOST, nowhere (loopback included); with proxy mode off, on any host', async () => {
    for (const host of ['http://attune.test', 'http://127.0.0.1:8787', 'http://localhost:8787', ADMIN_HOST]) {
      expect((await withEnv({ ADMIN_HOST: undefined }, `${host}/ui/experiments/login`)).status, host).toBe(404);
    }
    expect((await withEnv({ ADMIN_HOST: undefined, ORIGIN_URL: '' }, 'http://attune.test/ui/experiments/login')).status).toBe(200);
    expect((await withEnv({ ADMIN_HOST: 'Admin.Example:8443', ORIGIN_URL: '' }, 'http://attune.test/ui/experiments/login')).status).toBe(
      404,
    );
    expect((await withEnv({ ADMIN_HOST: 'Admin.Example:8443', ORIGIN_URL: '' }, 'https://admin.example/ui/experiments/login')).status).toBe(
      200,
    );
  });
});

describe('the admin session', () => {
  it('ends when signed out: the cookie replayed afterwards goes back to the login', async () => {
    const cookie = await signIn();
    expect((await list(cookie)).status).toBe(200);
    const out = await at(ADMIN_HOST, '/ui/experiments/logout', form({}, { cookie, origin: ADMIN_HOST }));
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/ui/experiments/login');
    const replay = await list(cookie);
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toBe('/ui/experiments/login');
    // and forms are refused with it
    expect((await at(ADMIN_HOST, '/ui/experiments/x/pause', form({}, { cookie }))).status).toBe(401);
    // another session is unaffected
    expect((await list(await signIn())).status).toBe(200);
  });

  it('is never taken as lasting more than 8 hours, whatever its signed expiry says', async () => {
    const id = 'a'.repeat(32);
    for (const expiry of [String(Date.now() + 365 * 86_400_000), '9'.repeat(15)]) {
      const payload = `admin-ui:${id}:${expiry}`;
      const res = await list(`att_admin=${payload}.${sign(env.ADMIN_TOKEN, payload)}`);
      expect(res.status, expiry).toBe(303);
    }
    const fine = `admin-ui:${id}:${Date.now() + 3_600_000}`;
    expect((await list(`att_admin=${fine}.${sign(env.ADMIN_TOKEN, fine)}`)).status).toBe(200);
  });

  it('signing out refuses a foreign Origin, and the session goes on', async () => {
    const cookie = await signIn();
    const forced = await at(ADMIN_HOST, '/ui/experiments/logout', form({}, { cookie, origin: 'https://evil.example' }));
    expect(forced.status).toBe(403);
    expect(forced.headers.getSetCookie()).toEqual([]); // the browser keeps its cookie
    expect((await list(cookie)).status).toBe(200);
  });
});

describe('failed sign-ins are throttled per client address', () => {
  /** Sends failures until the 429 (the fixed window may roll over once: at most 2 × 20). */
  async function throttle(send: () => Promise<Response>, failed: number): Promise<Response> {
    for (let i = 0; i < 41; i++) {
      const res = await send();
      if (res.status === 429) return res;
      expect(res.status).toBe(failed);
    }
    throw new Error('never throttled');
  }

  it('wrong admin bearer tokens: 429 with Retry-After, then even the right token, from that address only', async () => {
    const ip = address();
    // right tokens are never counted: an admin script making many calls is not throttled
    const ok = { authorization: `Bearer ${env.ADMIN_TOKEN}`, 'cf-connecting-ip': ip };
    for (let i = 0; i < 45; i++) expect((await at('http://attune.test', '/admin/campaigns', { headers: ok })).status).toBe(200);
    const wrong = () =>
      at('http://attune.test', '/admin/campaigns', { headers: { authorization: 'Bearer wrong', 'cf-connecting-ip': ip } });
    const res = await throttle(wrong, 401);
    expect(res.headers.get('retry-after')).toBe(String(AUTH_RETRY_AFTER_SECONDS));
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    const right = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
    expect((await at('http://attune.test', '/admin/campaigns', { headers: { ...right, 'cf-connecting-ip': ip } })).status).toBe(429);
    expect((await at('http://attune.test', '/admin/campaigns', { headers: { ...right, 'cf-connecting-ip': address() } })).status).toBe(200);
  });

  it('wrong tokens on the login form and wrong partner tokens count the same way, loopback included', async () => {
    const ip = v6();
    const login = await throttle(() => at(ADMIN_HOST, '/ui/experiments/login', form({ token: 'guess' }, { 'cf-connecting-ip': ip })), 401);
    expect(login.headers.get('retry-after')).toBe(String(AUTH_RETRY_AFTER_SECONDS));
    expect(await login.text()).toContain('too many failed sign-ins');
    // the same /64
    const sameNet = ip.replace(/::1$/, '::2');
    expect((await at(ADMIN_HOST, '/ui/experiments/login', form({ token: env.ADMIN_TOKEN }, { 'cf-connecting-ip': sameNet }))).status).toBe(
      429,
    );
    clearAuthBlocks(); // a fresh isolate: the limiter's own count still refuses the next failure
    const body = { campaign: 'none', imp: {} };
    const partner = await throttle(
      () => postJson('/v1/bid-adjust', body, { authorization: 'Bearer wrong', 'cf-connecting-ip': '127.0.0.1' }),
      401,
    );
    expect(partner.status).toBe(429);
  });
});
