/** Worker entry point: the HTTP API, and the consumer of its own log queue. */
import { kernelChecksum, type ChecksumKernel } from '../core/checksum.ts';
import checksumModule from '../core/checksum.wasm';
import { warmTimeZones } from '../core/local-time.ts';
import { useChecksum } from '../core/model-format.ts';
import { warmDecisionPath } from './warm-up.ts';
import { app } from './app.ts';
import { consumeLog } from './log-consumer.ts';

export { CampaignLedger } from './campaign-ledger.ts';

export { ExperimentAggregator } from './experiments/aggregator.ts';

// Isolate start-up, not the first request, pays for loading ICU's time-zone data (~17 ms).
warmTimeZones();

// Model checksums through the SIMD kernel: the same numbers, a quarter of the time on a cold
// load. Should the runtime lack WebAssembly SIMD, the reference stays, and we say so.
try {
  useChecksum(kernelChecksum(new WebAssembly.Instance(checksumModule).exports as unknown as ChecksumKernel));
} catch (err) {
  console.warn(JSON.stringify({ msg: 'checksum kernel unavailable; using the JavaScript checksum', error: String(err) }));
}

warmDecisionPath();

export default {
  fetch: app.fetch,
  queue: (batch, env, ctx) => consumeLog(batch, env, ctx),
} satisfies ExportedHandler<Env>;
