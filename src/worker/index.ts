/** Worker entry point. */
import { app } from './app.ts';

export { ExperimentAggregator } from './experiments/aggregator.ts';

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
