/**
 * Requests to `/admin/models`: blobs from the suites' shared encoders with odd names, variants,
 * policies and feature specs, blobs with bytes flipped, cut or appended, random bytes; activations,
 * rollbacks, listings with made-up cursors and reads of any name.
 */
import fc from 'fast-check';
import { linearBlob } from '../helpers.ts';
import { recsModel } from '../recs-helpers.ts';
import { nastyString, queryString, randomBody, request, safeEncode, segment } from './arbitraries.ts';
import { adminHeaders } from './admin-requests.ts';
import { EXPERIMENTS, HERO_VARIANTS, MODELS } from './fixtures.ts';
import type { FuzzBody, FuzzRequest } from './harness.ts';
import { jsonBody } from './json-arbitraries.ts';

const modelName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...Object.values(MODELS), `exp.${EXPERIMENTS.running}`) },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,12}$/) },
  { weight: 1, arbitrary: nastyString },
);
const version = fc.oneof(fc.constantFrom('v1', 'v2', 'v3'), fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/), nastyString);

const policy = fc.oneof(
  fc.record({
    type: fc.constant('greedy' as const),
    epsilon: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(-1, 2, Number.NaN)),
  }),
  fc.record({
    type: fc.constant('softmax' as const),
    temperature: fc.constantFrom(0.5, 1e-300, 0, -1, 1e300, Number.NaN),
    floor: fc.constantFrom(0, 0.1, 0.5, 1, -0.1),
  }),
  fc.record({ type: fc.constant('thompson' as const), floor: fc.constantFrom(0, 0.1, 0.9) }),
);

/** A linear model from the shared encoder, with names, variants and numbers it may not expect. */
const linearModel = fc
  .record({
    name: modelName,
    version,
    variants: fc.uniqueArray(fc.oneof(fc.constantFrom(...HERO_VARIANTS, '*', ''), fc.string({ maxLength: 10 })), {
      minLength: 0,
      maxLength: 5,
    }),
    bits: fc.integer({ min: 0, max: 12 }),
    policy,
    biasValue: fc.constantFrom(0, -3, 1e39, Number.NaN),
    target: fc.constantFrom('click', 'purchase', ''),
    featureSpecHash: fc.option(fc.constantFrom(0, 1, 0x12345678), { nil: undefined }),
    quantize: fc.constantFrom('int8' as const, 'float32' as const),
  })
  .map(({ biasValue, ...m }) => {
    try {
      return linearBlob({
        ...m,
        biasBy: Object.fromEntries(m.variants.map((v) => [v, biasValue])),
        keyed: m.variants.length > 0 ? { 'device=mobile': { [m.variants[0]!]: 0.5 } } : {},
        ...(m.featureSpecHash === undefined ? {} : { featureSpecHash: m.featureSpecHash }),
      });
    } catch {
      return new Uint8Array(0); // the encoder refused it: the empty body is a case of its own
    }
  });

const recsBlob = fc.record({ version, k: fc.integer({ min: 0, max: 20 }) }).map(({ version: v, k }) => {
  try {
    return recsModel(v, { k });
  } catch {
    return new Uint8Array(0);
  }
});

/** A valid blob with bytes flipped, cut or appended: the decoder's and checker's inputs. */
const damagedBlob = fc
  .tuple(
    fc.oneof(linearModel, recsBlob),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
    fc.constantFrom('flip', 'cut', 'append', 'header'),
  )
  .map(([blob, flips, how]) => {
    const b = new Uint8Array(blob);
    if (b.length === 0) return b;
    if (how === 'cut') return b.subarray(0, flips[0] ? flips[0][0] % b.length : b.length >> 1);
    if (how === 'append') return new Uint8Array([...b, ...new Uint8Array(8 + ((flips[0]?.[0] ?? 0) % 64))]);
    if (how === 'header') {
      // the fields before the checksummed region: kind, feature spec, total length, section count
      for (const [at, x] of flips) b[4 + (at % 20)]! ^= x;
      return b;
    }
    for (const [at, x] of flips) b[at % b.length]! ^= x;
    return b;
  });

const blobBody: fc.Arbitrary<FuzzBody> = fc.oneof(
  { weight: 3, arbitrary: fc.oneof(linearModel, recsBlob).map((bytes) => ({ bytes, encoding: 'identity' as const, chunked: false })) },
  { weight: 3, arbitrary: damagedBlob.map((bytes) => ({ bytes, encoding: 'identity' as const, chunked: false })) },
  { weight: 1, arbitrary: randomBody },
);

export const modelRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  request({
    method: fc.constant('PUT'),
    path: fc.constant('/admin/models'),
    query: fc.option(queryString(['activate', 'allowKindChange'], fc.constantFrom('true', 'false', '1', '0', '')), { nil: undefined }),
    headers: adminHeaders('application/octet-stream'),
    body: blobBody,
  }),
  request({
    method: fc.constant('POST'),
    path: modelName.map((n) => `/admin/models/${safeEncode(n)}/activate`),
    headers: adminHeaders(),
    body: jsonBody(fc.record({ version, allowKindChange: fc.boolean() }, { requiredKeys: ['version'] })),
  }),
  request({ method: fc.constant('POST'), path: modelName.map((n) => `/admin/models/${safeEncode(n)}/rollback`), headers: adminHeaders() }),
  request({
    method: fc.constant('GET'),
    path: fc.constant('/admin/models'),
    query: fc.option(
      fc.oneof(nastyString, fc.base64String()).map((c) => `cursor=${safeEncode(c)}`),
      { nil: undefined },
    ),
    headers: adminHeaders(),
  }),
  request({
    method: fc.constant('GET'),
    path: segment([...Object.values(MODELS), 'exp.fz-exp']).map((n) => `/admin/models/${n}`),
    headers: adminHeaders(),
  }),
);
