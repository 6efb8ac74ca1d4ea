/**
 * Property-based fuzzing of the admin API and the admin page inside workerd through
 * `exports.default.fetch`: model blobs (odd, damaged, random), activations and rollbacks,
 * campaigns and FX rates, bandit tests and their actions, and the page's forms with real, forged
 * or no session.
 * These change what the file's storage holds, which is the point: later cases meet what earlier
 * ones left. Properties: harness.ts. FUZZ_RUNS=n scales every property.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { adminAnyMethod, campaignRequest, experimentRequest } from './admin-requests.ts';
import { ADMIN_AUTH, type Seeded, seed, uiSession } from './fixtures.ts';
import { bodyNesting, type FuzzRequest, fuzz, send, testTimeout } from './harness.ts';
import { modelRequest } from './model-requests.ts';
import { uiRequest } from './ui-requests.ts';

let seeded: Seeded;

beforeAll(async () => {
  seeded = await seed();
}, 60_000);

/**
 * Finding 1 (not fixed yet): an arm's JSON payload nested a few thousand deep overflows the stack
 * on its way to the experiment's aggregator (a 503, and the key stays broken). Skipped by the
 * properties until the fix; the `it.fails` tests below hold its counterexamples. After the fix:
 * remove this and turn those into `it`.
 */
const deepPayload = (r: FuzzRequest): boolean => bodyNesting(r) > 1_000;

describe('fuzz: admin API', () => {
  it('/admin/models: publish, activate, rollback, list, read', () => fuzz(modelRequest, 60), testTimeout(60, 250));
  it('/admin/campaigns and /admin/fx-rates', () => fuzz(campaignRequest, 40), testTimeout(40, 300));
  it('/admin/experiments and their actions', () => fuzz(experimentRequest, 60, 'json', deepPayload), testTimeout(60, 250));
  it('any method on admin paths', () => fuzz(adminAnyMethod, 30), testTimeout(30));
});

describe('fuzz: admin page (/ui/experiments)', () => {
  it('login, logout, list, create and action forms', () => fuzz(uiRequest(seeded.uiCookie), 60, 'page', deepPayload), testTimeout(60, 250));
});

const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const config = (key: string, value: string) =>
  `{"key":"${key}","name":"Deep","goals":["click"],"arms":[{"key":"a","payload":{"type":"json","value":${value}}},{"key":"b","payload":{"type":"text","value":"b"}}]}`;
const ADMIN: [string, string][] = [
  ['authorization', ADMIN_AUTH],
  ['content-type', 'application/json'],
];

describe('findings (it.fails until fixed)', () => {
  it.fails('finding 1: POST /admin/experiments with an arm payload nested 5,000 deep is a 4xx, and the key stays usable', async () => {
    const deep = await send({
      method: 'POST',
      path: '/admin/experiments',
      headers: ADMIN,
      body: { text: config('deep-finding', nested(5_000)), encoding: 'identity', chunked: false },
    });
    expect(deep.status).toBeLessThan(500); // today: 503 aggregator_unavailable (RangeError: Maximum call stack size exceeded)
    const plain = await send({
      method: 'POST',
      path: '/admin/experiments',
      headers: ADMIN,
      body: { text: config('deep-finding', '1'), encoding: 'identity', chunked: false },
    });
    expect(plain.status).toBe(201); // today: 503 again, the aggregator holds the deep config
  });

  it.fails("finding 1: the admin page's create form with a JSON arm nested 2,600 deep is a 4xx page", async () => {
    const arms = encodeURIComponent(`a | ${nested(2_600)}\nb | 1`);
    const res = await send({
      method: 'POST',
      path: '/ui/experiments',
      headers: [
        // a session of its own: the fuzzed forms above may have signed the seeded one out
        ['cookie', await uiSession()],
        ['content-type', 'application/x-www-form-urlencoded'],
      ],
      body: { text: `key=deep-form&name=x&goals=click&payloadType=json&arms=${arms}`, encoding: 'identity', chunked: false },
    });
    expect(res.status).toBeLessThan(500); // today: a JSON 503 aggregator_unavailable in place of the page
  });
});
