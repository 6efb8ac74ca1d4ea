/**
 * Routes log records to the experiment aggregators: exposures (decision records carrying
 * `experiment`) and outcome events naming an experiment go to that experiment's Durable Object,
 * one RPC per experiment per batch. The log consumer calls this after its R2 write; it throws if
 * an aggregator cannot be reached so the consumer retries the batch (redelivery is idempotent).
 */
import type { LogRecord } from '../../core/outcome-event.ts';

export interface ForwardSummary {
  readonly experiments: number;
  readonly records: number;
}

export async function forwardToExperiments(env: Pick<Env, 'EXPERIMENTS'>, records: readonly LogRecord[]): Promise<ForwardSummary> {
  const groups = new Map<string, LogRecord[]>();
  for (const r of records) {
    const key = r.experiment;
    if (typeof key !== 'string' || key === '') continue;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = []));
    g.push(r);
  }
  let n = 0;
  await Promise.all([...groups].map(async ([key, list]) => {
    n += list.length;
    await env.EXPERIMENTS.get(env.EXPERIMENTS.idFromName(key)).ingest(list);
  }));
  return { experiments: groups.size, records: n };
}

export function experimentStub(env: Pick<Env, 'EXPERIMENTS'>, key: string) {
  return env.EXPERIMENTS.get(env.EXPERIMENTS.idFromName(key));
}
