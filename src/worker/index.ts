/** Worker entry point: the HTTP API, and the consumer of its own log queue. */
import { warmTimeZones } from '../core/local-time.ts';
import { app } from './app.ts';
import { consumeLog } from './log-consumer.ts';

export { CampaignLedger } from './campaign-ledger.ts';

export { ExperimentAggregator } from './experiments/aggregator.ts';

// Isolate start-up, not the first request, pays for loading ICU's time-zone data (~17 ms).
warmTimeZones();

export default {
  fetch: app.fetch,
  queue: (batch, env, ctx) => consumeLog(batch, env, ctx),
} satisfies ExportedHandler<Env>;
