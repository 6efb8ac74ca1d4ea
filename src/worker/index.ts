/** Worker entry point: the HTTP API, and the consumer of its own log queue. */
import { kernelChecksum, type ChecksumKernel } from '../core/checksum.ts';
import checksumModule from '../core/checksum.wasm';
import { warmTimeZones } from '../core/local-time.ts';
import { useChecksum } from '../core/model-format.ts';
import { warmDecisionPath } from './decide/warm-up.ts';
import { app } from './app.ts';
import { consumeLog } from './log/log-consumer.ts';
import { log } from './shared/log.ts';

export { CampaignLedger } from './bidding/campaign-ledger.ts';
export { CampaignWriter } from './bidding/campaign-writer.ts';
export { ModelWriter } from './models/model-writer.ts';

export { ExperimentAggregator } from './experiments/aggregator.ts';

// Isolate start-up, not the first request, pays for loading ICU's time-zone data (~17 ms).
warmTimeZones();

// Model checksums through the SIMD kernel: the same numbers, about a third of the time (4 MiB:
// 0.3–0.4 ms against 1.1–1.2 ms). Should the runtime lack WebAssembly SIMD, the reference stays, and we say so.
try {
  useChecksum(kernelChecksum(new WebAssembly.Instance(checksumModule).exports as unknown as ChecksumKernel));
} catch (err) {
  log.warn('checksum kernel unavailable; using the JavaScript checksum', { error: String(err) });
}

// The decision path compiled before the first visitor arrives (warm-up.ts). It cannot fail on
// any input it is given, but a Worker that does not start would be worse than a slow request.
try {
  warmDecisionPath();
} catch (err) {
  log.warn('start-up warm-up failed', { error: String(err) });
}

export default {
  fetch: app.fetch,
  queue: (batch, env, ctx) => consumeLog(batch, env, ctx),
} satisfies ExportedHandler<Env>;
