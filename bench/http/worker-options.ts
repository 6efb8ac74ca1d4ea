/**
 * The bindings wrangler.toml gives the Worker, for the benchmarks that run the bundled Worker
 * in Miniflare directly (no wrangler): KV, the log queue's producer and every Durable Object
 * class (admin writes go through the campaign and model writers).
 */
export function benchWorkerOptions(adminToken: string) {
  return {
    compatibilityDate: '2026-11-01',
    kvNamespaces: ['MODELS'],
    queueProducers: { EVENTS: { queueName: 'attune-events' } },
    durableObjects: {
      CAMPAIGN_LEDGER: { className: 'CampaignLedger', useSQLite: true },
      CAMPAIGN_WRITER: { className: 'CampaignWriter', useSQLite: true },
      EXPERIMENTS: { className: 'ExperimentAggregator', useSQLite: true },
      MODEL_WRITER: { className: 'ModelWriter', useSQLite: true },
    },
    bindings: { PROFILE_SECRET: 'bench-profile-secret', ADMIN_TOKEN: adminToken, MODEL_REFRESH_SECONDS: '5', ALLOWED_ORIGINS: '*' },
  };
}
