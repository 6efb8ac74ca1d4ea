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
import { MAX_JSON_DEPTH } from '../../../src/worker/shared/json-depth.ts';
import { fuzz, send, testTimeout } from './harness.ts';
import { modelRequest } from './model-requests.ts';
import { uiRequest } from './ui-requests.ts';

let seeded: Seeded;

beforeAll(async () => {
  seeded = await seed();
}, 60_000);

describe('fuzz: admin API', () => {
  it('/admin/models: publish, activate, rollback, list, read', () => fuzz(modelRequest, 60), testTimeout(60, 250));
  it('/admin/campaigns and /admin/fx-rates', () => fuzz(campaignRequest, 40), testTimeout(40, 300));
  it('/admin/experiments and their actions', () => fuzz(experimentRequest, 60, 'json'), testTimeout(60, 250));
  it('any method on admin paths', () => fuzz(adminAnyMethod, 30), testTimeout(30));
});

describe('fuzz: admin page (/ui/experiments)', () => {
  it('login, logout, list, create and action forms', () => fuzz(uiRequest(seeded.uiCookie), 60, 'page'), testTimeout(60, 250));
});

const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const config = (key: string, value: string) =>
  `{"key":"${key}","name":"Deep","goals":["click"],"arms":[{"key":"a","payload":{"type":"json","value":${value}}},{"key":"b","payload":{"type":"text","value":"b"}}]}`;
const ADMIN: [string, string][] = [
  ['authorization', ADMIN_AUTH],
  ['content-type', 'application/json'],
];

describe('findings', () => {
  it('finding 1: POST /admin/experiments with an arm payload nested 5,000 deep is a 400 naming the field, and the key stays usable', async () => {
    const deep = await send({
      method: 'POST',
      path: '/admin/experiments',
      headers: ADMIN,
      body: { text: config('deep-finding', nested(5_000)), encoding: 'identity', chunked: false },
    });
    expect(deep.status).toBe(400); // was 503 aggregator_unavailable (RangeError: Maximum call stack size exceeded)
    expect(JSON.parse(deep.text)).toEqual({
      error: { code: 'invalid_request', field: 'arms[0].payload.value', message: expect.stringContaining(`deeper than ${MAX_JSON_DEPTH}`) },
    });
    const plain = await send({
      method: 'POST',
      path: '/admin/experiments',
      headers: ADMIN,
      body: { text: config('deep-finding', '1'), encoding: 'identity', chunked: false },
    });
    expect(plain.status).toBe(201); // was 503 again: the aggregator held the deep config
  });

  it("finding 1: the admin page's create form with a JSON arm nested 2,600 deep is a 400 page", async () => {
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
    expect(res.status).toBe(400); // was a JSON 503 aggregator_unavailable in place of the page
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toContain('arms[0].payload.value');
  });
});
