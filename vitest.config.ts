import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';
import { testOrigin } from './test/fixtures/test-origin.ts';

// Test-only secrets: bindings the Worker reads from `wrangler secret` in production.
export const TEST_BINDINGS = {
  PROFILE_SECRET: 'test-profile-secret-0123456789abcdef',
  ADMIN_TOKEN: 'test-admin-token',
  // proxy mode in tests: the origin is test/fixtures/test-origin.ts, reached through outboundService
  ORIGIN_URL: 'http://origin.test',
  ORIGIN_TIMEOUT_MS: '1000',
};

export default defineConfig({
  test: {
    projects: [
      {
        // The pure core, in Node (the same V8 the benchmarks time).
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        // The Worker, inside workerd, against real local KV and Queues.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: TEST_BINDINGS,
              outboundService: testOrigin,
              // Deliver log batches quickly in tests (production waits up to 5 s to fill a batch).
              queueConsumers: { 'attune-events': { maxBatchTimeout: 1, maxRetries: 8, deadLetterQueue: 'attune-events-dlq' } },
            },
          }),
        ],
        test: { name: 'worker', include: ['test/worker/**/*.test.ts'], testTimeout: 20_000 },
      },
      {
        // Real Chromium against a spawned wrangler dev and a loopback origin (test/browser/README).
        test: { name: 'browser', include: ['test/browser/**/*.test.ts'], environment: 'node', testTimeout: 60_000, hookTimeout: 90_000, fileParallelism: false },
      },
    ],
  },
});
