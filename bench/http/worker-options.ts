/**
 * The bindings wrangler.toml gives the Worker, for the benchmarks that run the bundled Worker
 * in Miniflare directly (no wrangler): KV, the log queue's producer, the rate limiters and
 * every Durable Object class (admin writes go through the campaign and model writers).
 */
/** The key of the one exchange (`bench`) the benchmarks bid for. */
export const BENCH_EXCHANGE_KEY = 'bench-exchange-key-0123456789';

export function benchWorkerOptions(adminToken: string) {
  return {
    compatibilityDate: '2026-11-01',
    kvNamespaces: ['KV'],
    queueProducers: { EVENTS: { queueName: 'attune-events' } },
    // wrangler.toml's limits; the benches send from loopback, which they do not count (shared/client-rate.ts)
    ratelimits: {
      EVENTS_LIMITER: { namespace_id: '1001', simple: { limit: 5000, period: 10 as const } },
      AUTH_LIMITER: { namespace_id: '1002', simple: { limit: 20, period: 60 as const } },
      API_LIMITER: { namespace_id: '1003', simple: { limit: 5000, period: 10 as const } },
    },
    durableObjects: {
      CAMPAIGN_LEDGER: { className: 'CampaignLedger', useSQLite: true },
      CAMPAIGN_WRITER: { className: 'CampaignWriter', useSQLite: true },
      EXPERIMENTS: { className: 'ExperimentAggregator', useSQLite: true },
      MODEL_WRITER: { className: 'ModelWriter', useSQLite: true },
    },
    bindings: {
      SIGNING_SECRET: 'bench-signing-secret-0123456789abcdef', // 32+ characters, or it counts as unset
      ADMIN_TOKEN: adminToken,
      MODEL_REFRESH_SECONDS: '5',
      ALLOWED_ORIGINS: '*',
      EXCHANGE_KEYS: `bench:${BENCH_EXCHANGE_KEY}`,
    },
  };
}
