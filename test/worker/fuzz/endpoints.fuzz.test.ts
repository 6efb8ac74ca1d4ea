/**
 * Property-based fuzzing of the public API, the static routes and the proxy fallback, inside
 * workerd through the Worker's own fetch (`exports.default.fetch`): valid requests built from
 * the schemas, mutated ones and random ones (bodies, encodings, queries, headers), each answered
 * without a 5xx, within HANG_MS, with the JSON error shape on a 4xx and no secret in it
 * (harness.ts). FUZZ_RUNS=n scales every property.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { decideRequest, recommendGetRequest, recommendPostRequest, scoreRequest } from './api-requests.ts';
import { eventsRequest } from './event-requests.ts';
import { seed } from './fixtures.ts';
import { expectSound, type FuzzRequest, fuzz, HANG_MS, params, send, testTimeout } from './harness.ts';
import { anyMethodRequest, proxyRequest, staticRequest } from './site-requests.ts';

beforeAll(async () => {
  await seed();
}, 60_000);

describe('fuzz: public API', () => {
  it('POST /v1/decide', () => fuzz(decideRequest, 120), testTimeout(120));
  it('POST /v1/score', () => fuzz(scoreRequest, 60), testTimeout(60));
  it('POST /v1/recommend', () => fuzz(recommendPostRequest, 80), testTimeout(80));
  it('GET /v1/recommend', () => fuzz(recommendGetRequest, 60), testTimeout(60));
  it('POST /v1/events (JSON, beacons, Segment)', () => fuzz(eventsRequest, 120), testTimeout(120));
});

describe('fuzz: static routes, stray methods', () => {
  it('/attune.js, /openapi.json, /healthz, /__attune/queue', () => fuzz(staticRequest, 30, 'page'), testTimeout(30));
  it('any method on any API path', () => fuzz(anyMethodRequest, 60), testTimeout(60));
});

/** What the test origin saw arrive for hosts other than itself (test/fixtures/test-origin.ts). */
async function foreignRequests(): Promise<unknown[]> {
  return (await (await fetch('http://origin.test/__foreign', { signal: AbortSignal.timeout(HANG_MS) })).json()) as unknown[];
}

describe('fuzz: proxy fallback (ORIGIN_URL is the test origin)', () => {
  it(
    'any path and method: no 5xx, never another host, none of our cookies at the origin',
    async () => {
      await foreignRequests();
      await fc.assert(
        fc.asyncProperty(proxyRequest, async (r) => {
          const a = await expectSound(r, 'page');
          const foreign = await foreignRequests();
          if (foreign.length > 0) throw new Error(`reached another host: ${JSON.stringify(foreign)}`);
          if (
            r.method === 'GET' &&
            r.path.startsWith('/echo/') &&
            a.status === 200 &&
            (a.headers.get('content-type') ?? '').includes('json')
          ) {
            const cookie = String((JSON.parse(a.text) as { headers?: { cookie?: string } }).headers?.cookie ?? '');
            if (/(^|;\s*)att_(vid|p|admin)=/.test(cookie)) throw new Error(`our cookie reached the origin: ${cookie}`);
          }
        }),
        params<[FuzzRequest]>(80),
      );
    },
    testTimeout(80, 400),
  );
});

describe('findings', () => {
  /**
   * Finding 2 (observation, not confirmed on Cloudflare; skipped because it reproduces about one
   * time in three locally): a 1 MB POST that the origin answers without reading (its pages read
   * no body) leaves the upstream upload unfinished, and the next proxied request waits out
   * ORIGIN_TIMEOUT_MS and answers 504. With /echo (which reads the body) workerd logs "Can't read
   * from request stream after response has been sent". Run it by hand with it.only.
   */
  it.skip('finding 2: a big POST the origin does not read does not stall the next proxied request', async () => {
    for (let i = 0; i < 6; i++) {
      await send({
        method: 'POST',
        path: '/image.png',
        headers: [],
        body: { bytes: new Uint8Array(1100 * 1024).fill(32), encoding: 'identity', chunked: false },
      });
      const next = await send({ method: 'GET', path: '/fragment', headers: [] });
      expect(next.status).not.toBe(504);
    }
  }, 60_000);
});
