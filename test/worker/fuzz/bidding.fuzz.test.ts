/**
 * Property-based fuzzing of the bidding API inside workerd through `exports.default.fetch`: bid
 * requests (bearer key and path form; gzip bodies; every OpenRTB shape and mutations of it), the
 * signed win, billing and loss notices and the click tracker (URLs a real bid handed out,
 * altered), and `/v1/bid-adjust`. Properties: harness.ts. FUZZ_RUNS=n scales every property.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bidAdjustRequest, bidPathRequest, bidRequest, pathToken } from './bidding-requests.ts';
import { EXCHANGES, type Seeded, seed } from './fixtures.ts';
import { send, fuzz, testTimeout } from './harness.ts';
import { clickRequest, noticeRequest } from './notice-requests.ts';

let seeded: Seeded;
let tokens: Record<string, string>;

beforeAll(async () => {
  seeded = await seed();
  tokens = Object.fromEntries(await Promise.all(EXCHANGES.map(async (e) => [e.id, await pathToken(e.key, e.id)] as const)));
}, 60_000);

describe('fuzz: bidding', () => {
  it("the path tokens the fuzzer derives are the Worker's (else the path form is only fuzzed shallowly)", async () => {
    const [id, token] = Object.entries(tokens)[0]!;
    const a = await send({
      method: 'POST',
      path: `/openrtb2/bid/${id}/${token}`,
      headers: [['content-type', 'application/json']],
      body: { text: '{}', encoding: 'identity', chunked: false },
    });
    expect(a.status).toBe(400); // past the key check, refused by the validator
  });

  it('POST /openrtb2/bid (bearer key)', () => fuzz(bidRequest, 120), testTimeout(120));
  it('POST /openrtb2/bid/<exchange>/<token>', () => fuzz(bidPathRequest(tokens), 60), testTimeout(60));
  it('win, billing and loss notices (GET and POST)', () => fuzz(noticeRequest(seeded.signed), 120, 'page'), testTimeout(120));
  it('GET /openrtb2/click', () => fuzz(clickRequest(seeded.signed.click!), 60, 'page'), testTimeout(60));
  it('POST /v1/bid-adjust (partner token)', () => fuzz(bidAdjustRequest, 80), testTimeout(80));
});
