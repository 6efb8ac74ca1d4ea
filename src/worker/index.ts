/**
 * Worker entry point: the HTTP API, and the consumer of its own log queue.
 *
 * Module scope does as little as it can: the isolate's start-up is paid by whatever request
 * arrives first, whichever feature it needs. The routes of every feature but the decision path
 * load on first use (app.ts), ICU's time-zone data loads with the first zone a request names
 * (core/local-time.ts), and the checksum kernel with the first model (below).
 */
import { checksum, kernelChecksum, lazyChecksum, type ChecksumKernel } from '../core/checksum.ts';
import checksumModule from '../core/checksum.wasm';
import { useChecksum } from '../core/model-format.ts';
import { app } from './app.ts';
import { consumeLog } from './log/log-consumer.ts';
import { log } from './shared/log.ts';

export { CampaignLedger } from './bidding/campaign-ledger.ts';
export { CampaignWriter } from './bidding/campaign-writer.ts';
export { ModelWriter } from './models/model-writer.ts';

export { ExperimentAggregator } from './experiments/aggregator.ts';

// Model checksums through the SIMD kernel: the same numbers, in a fraction of the time, so a new
// isolate's first model load verifies large models quickly. Should the runtime lack
// WebAssembly SIMD, the reference stays, and we say so.
useChecksum(
  lazyChecksum(
    () => kernelChecksum(new WebAssembly.Instance(checksumModule).exports as unknown as ChecksumKernel),
    (err) => {
      log.warn('checksum kernel unavailable; using the JavaScript checksum', { error: String(err) });
      return checksum;
    },
  ),
);

export default {
  fetch: app.fetch,
  queue: (batch, env, ctx) => consumeLog(batch, env, ctx),
} satisfies ExportedHandler<Env>;
