/** Worker entry point: the HTTP API, and the consumer of its own log queue. */
import { app } from './app.ts';
import { consumeLog } from './log-consumer.ts';

export { ExperimentAggregator } from './experiments/aggregator.ts';

export default {
  fetch: app.fetch,
  queue: (batch, env, ctx) => consumeLog(batch, env, ctx),
} satisfies ExportedHandler<Env>;
