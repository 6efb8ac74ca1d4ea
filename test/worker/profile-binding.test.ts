/**
 * The signed profile cookie is bound to its visitor id: copied next to another visitor's id it is
 * reset, so no one can take over someone else's sticky variants and history. Cookies signed
 * before the binding are read once more (re-signed for the visitor presenting them) while they
 * were written in the last LEGACY_PROFILE_DAYS days.
 */
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { decodeCookieText, encodeCookieText, sign } from '../../src/worker/shared/signing.ts';
import { LEGACY_PROFILE_DAYS } from '../../src/worker/visitor/visitor.ts';
import { cookieHeader, cookiesOf, postJson, resetAll } from './helpers.ts';

beforeEach(resetAll);

const visit = (cookies: Record<string, string>) =>
  postJson(
    '/v1/decide',
    { page: { url: 'https://shop.example/pricing' }, slots: [{ id: 'hero', candidates: ['a', 'b', 'c', 'd'] }] },
    {
      cookie: cookieHeader(cookies),
    },
  );

/** The profile's fields ([layout, first, last, visits, views, …]) from a cookie value. */
const fieldsOf = (cookie: string): unknown[] => JSON.parse(decodeCookieText(cookie.slice(0, cookie.lastIndexOf('.')))!) as unknown[];

/** A visitor with a few page views behind them: their cookies. */
async function regular(id: string, views = 3): Promise<Record<string, string>> {
  let jar: Record<string, string> = { att_vid: id };
  for (let i = 0; i < views; i++) jar = { ...jar, ...cookiesOf(await visit(jar)) };
  expect(fieldsOf(jar.att_p!)[4]).toBe(views);
  return jar;
}

describe('the profile cookie belongs to its visitor', () => {
  it("another visitor's profile next to my visitor id is reset, and I start afresh", async () => {
    const a = await regular('visitor-aaaaaaaa');
    const res = await visit({ att_vid: 'visitor-bbbbbbbb', att_p: a.att_p! });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-attune-profile')).toBe('reset');
    expect(fieldsOf(cookiesOf(res).att_p!)[4]).toBe(1); // this view only: A's history is not B's
    // with its own visitor id it is as good as ever
    const own = await visit(a);
    expect(own.headers.get('x-attune-profile')).toBeNull();
    expect(fieldsOf(cookiesOf(own).att_p!)[4]).toBe(4);
  });

  it('a cookie signed before the binding is read once more and re-signed for the visitor presenting it', async () => {
    const a = await regular('visitor-cccccccc');
    const payload = a.att_p!.slice(0, a.att_p!.lastIndexOf('.'));
    const unbound = `${payload}.${sign(env.SIGNING_SECRET, payload)}`; // the earlier form: the payload alone
    const res = await visit({ att_vid: 'visitor-cccccccc', att_p: unbound });
    expect(res.headers.get('x-attune-profile')).toBeNull();
    const rebound = cookiesOf(res).att_p!;
    expect(fieldsOf(rebound)[4]).toBe(4); // history kept
    expect(rebound.slice(rebound.lastIndexOf('.') + 1)).not.toBe(unbound.slice(unbound.lastIndexOf('.') + 1));
    // now bound: moved to another visitor id, it is reset
    expect((await visit({ att_vid: 'visitor-dddddddd', att_p: rebound })).headers.get('x-attune-profile')).toBe('reset');
  });

  it(`an unbound cookie last written more than ${LEGACY_PROFILE_DAYS} days ago is reset`, async () => {
    const a = await regular('visitor-eeeeeeee');
    const fields = fieldsOf(a.att_p!);
    const minutes = Math.floor(Date.now() / 60_000);
    const aged = (days: number) => {
      const f = [...fields];
      f[1] = minutes - (days + 1) * 1440; // first seen before it
      f[2] = minutes - days * 1440; // last seen
      const payload = encodeCookieText(JSON.stringify(f));
      return `${payload}.${sign(env.SIGNING_SECRET, payload)}`;
    };
    expect((await visit({ att_vid: 'visitor-eeeeeeee', att_p: aged(LEGACY_PROFILE_DAYS + 1) })).headers.get('x-attune-profile')).toBe(
      'reset',
    );
    expect((await visit({ att_vid: 'visitor-eeeeeeee', att_p: aged(LEGACY_PROFILE_DAYS - 1) })).headers.get('x-attune-profile')).toBeNull();
  });
});
