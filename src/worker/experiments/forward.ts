/**
 * Routes log records to the experiment aggregators: exposures (decision records carrying
 * `experiment`) and outcome events naming an experiment go to that experiment's Durable Object,
 * one RPC per experiment per batch. The log consumer calls this after its R2 write; it throws if
 * an aggregator cannot be reached so the consumer retries the batch (redelivery is idempotent).
 *
 * Only experiments that exist get records: events come from anyone, and every new name would
 * otherwise create a Durable Object (with its storage) on the consumer's say-so. The records of
 * unknown names stay in the R2 log. What exists comes from the isolate's list of experiments
 * (store.ts `experimentKeys`), not a read per name: a batch of made-up names would otherwise
 * cost a KV read each, past Workers Free's 50 subrequests, and fail every retry into the DLQ.
 */
import { EXPERIMENT_KEY } from '../../core/experiments/experiment.ts';
import type { LogRecord } from '../../core/outcome-event.ts';
import { log } from '../shared/log.ts';
import { kvOf } from '../shared/bindings.ts';
import { experimentKeys } from './store.ts';

export interface ForwardSummary {
  readonly experiments: number;
  readonly records: number;
}

export async function forwardToExperiments(
  env: Pick<Env, 'EXPERIMENTS' | 'KV'>,
  records: readonly LogRecord[],
  now = Date.now(),
): Promise<ForwardSummary> {
  const groups = new Map<string, LogRecord[]>();
  for (const r of records) {
    const key = r.experiment;
    if (typeof key !== 'string' || !EXPERIMENT_KEY.test(key)) continue;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = []));
    g.push(r);
  }
  const exist = groups.size === 0 ? new Set<string>() : await experimentKeys(kvOf(env), groups.keys(), now);
  const known = [...groups.keys()].map((key) => exist.has(key));
  const unknown: string[] = [];
  let experiments = 0;
  let n = 0;
  await Promise.all(
    [...groups].map(async ([key, list], i) => {
      if (!known[i]) {
        unknown.push(key);
        return;
      }
      experiments++;
      n += list.length;
      await env.EXPERIMENTS.get(env.EXPERIMENTS.idFromName(key)).ingest(list);
    }),
  );
  if (unknown.length > 0) {
    log.warn('log records name experiments that do not exist; not forwarded', { count: unknown.length, keys: unknown.slice(0, 10) });
  }
  return { experiments, records: n };
}

export function experimentStub(env: Pick<Env, 'EXPERIMENTS'>, key: string) {
  return env.EXPERIMENTS.get(env.EXPERIMENTS.idFromName(key));
}
