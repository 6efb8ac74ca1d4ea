import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import { demoSeed, docTexts } from './test/fixtures/doc-examples.ts';
import { HAS_SHARED_DATA } from './test/fixtures/shared-data.ts';
import { testOrigin } from './test/fixtures/test-origin.ts';

/** Golden model blobs, handed to the workerd suite (which cannot read the file system). */
const golden = (name: string) => readFileSync(new URL(`./test/fixtures/golden/${name}`, import.meta.url)).toString('base64');

// Test-only secrets: bindings the Worker reads from `wrangler secret` in production.
export const TEST_BINDINGS = {
  SIGNING_SECRET: 'test-signing-secret-0123456789abcdef',
  // 32 characters or more: shorter secrets count as not set (core/secret-strength.ts)
  ADMIN_TOKEN: 'test-admin-token-0123456789abcdef',
  // labelled admin tokens: the audit log names who made each change
  ADMIN_TOKENS: 'alice:test-admin-token-alice-0123456789abcdef',
  PARTNER_TOKENS: 'test-partner-a-0123456789abcdef01, test-partner-b-0123456789abcdef01',
  // the exchanges allowed to bid (test/worker/bidding-helpers.ts sends the first key)
  EXCHANGE_KEYS: 'exchange-a:test-exchange-a-key-0123456789,exchange-b:test-exchange-b-key-0123456789',
  // exchange A's debug requests get the bidder's explanation, exchange B's do not (bid-debug.ts)
  DEBUG_EXCHANGES: 'exchange-a',
  // proxy mode in tests: the origin is test/fixtures/test-origin.ts, reached through outboundService
  ORIGIN_URL: 'http://origin.test',
  // the admin page's host: in proxy mode it answers there only (experiments/admin-host.ts)
  ADMIN_HOST: 'admin.attune.test',
  ORIGIN_TIMEOUT_MS: '1000',
  // campaign writes: a short gap keeps the suite quick and still groups concurrent writes
  KV_WRITE_GAP_MS: '100',
  // KV is read-after-write here: tests see at once what a list put by hand does
  KV_STALE_MS: '0',
  // browsers on any origin, as under `npm start` (wrangler.toml allows none: the deploy names the site)
  ALLOWED_ORIGINS: '*',
};

export default defineConfig({
  test: {
    projects: [
      {
        // The pure core, in Node (the same V8 the benchmarks time).
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node', setupFiles: ['test/unit/temp-dir-setup.ts'] },
      },
      {
        // The Worker, inside workerd, against real local KV and Queues.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            // the sources, not wrangler.toml's main (the split build of them, scripts/build-worker.mjs)
            main: './src/worker/index.ts',
            miniflare: {
              bindings: TEST_BINDINGS,
              outboundService: testOrigin,
              // Deliver log batches quickly in tests (production waits up to 5 s to fill a batch).
              queueConsumers: { 'attune-events': { maxBatchTimeout: 1, maxRetries: 8, deadLetterQueue: 'attune-events-dlq' } },
              // EVENTS_LIMITER and API_LIMITER are wrangler.toml's, the production numbers. A binding's
              // limit is fixed when the runtime starts, so the 429 tests pass these low ones to the Worker
              // in their place (test/worker/event-rate-limit.test.ts); nothing else reads them.
              ratelimits: {
                EVENTS_LIMITER_LOW: { namespace_id: '9001', simple: { limit: 5, period: 60 } },
                API_LIMITER_LOW: { namespace_id: '9002', simple: { limit: 5, period: 60 } },
              },
            },
          }),
        ],
        test: {
          name: 'worker',
          include: ['test/worker/**/*.test.ts'],
          // the Worker's log is captured per test and printed only when a test fails
          setupFiles: ['test/worker/log-setup.ts'],
          testTimeout: 20_000,
          provide: {
            goldenLinear: golden('linear-v1.bin'),
            goldenEnvelope: golden('envelope-v1.bin'),
            hasSharedData: HAS_SHARED_DATA,
            // test/worker/fuzz: FUZZ_RUNS=n runs every property n times, FUZZ_SEED replays a seed ('' when unset: the suites' defaults)
            fuzz: { runs: process.env.FUZZ_RUNS ?? '', seed: process.env.FUZZ_SEED ?? '' },
            // test/worker/doc-examples.test.ts: the docs' text and what `npm start` seeds
            docs: docTexts(),
            demoSeed: demoSeed(),
          },
        },
      },
      {
        // End to end: real Chromium (test/browser/chromium.ts finds one) and the CLIs against a spawned `wrangler dev` and a
        // loopback origin (test/browser/README.md). One file at a time: each starts its own worker.
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
