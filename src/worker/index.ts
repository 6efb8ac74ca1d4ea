/** Worker entry point. */
import { app } from './app.ts';

export { CampaignLedger } from './campaign-ledger.ts';

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
