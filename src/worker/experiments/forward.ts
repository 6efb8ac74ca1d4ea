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
 *
 * Outcomes that name no experiment (the site's own conversion events) go, as `joined`, to the
 * live tests whose goals or guardrails include their name (goal-index.ts); a test counts one only
 * through an exposure it served the visitor (by decision id or visitor), and never parks it.
 */
import { EXPERIMENT_KEY } from '../../core/experiments/experiment.ts';
import type { LogRecord, OutcomeEvent } from '../../core/outcome-event.ts';
import { log } from '../shared/log.ts';
import { kvOf } from '../shared/bindings.ts';
import { liveGoalIndex } from './goal-index.ts';
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
  const unnamed: OutcomeEvent[] = [];
  for (const r of records) {
    if (r.type === 'outcome' && r.experiment === undefined && (r.visitor !== undefined || r.decisionId !== undefined)) unnamed.push(r);
    const key = r.experiment;
    if (typeof key !== 'string' || !EXPERIMENT_KEY.test(key)) continue;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = []));
    g.push(r);
  }
  const joined = new Map<string, OutcomeEvent[]>();
  if (unnamed.length > 0) {
    const index = await liveGoalIndex(env);
    for (const o of unnamed) {
      const keys = new Set([...(index.get(o.name) ?? []), ...(o.goal !== undefined ? (index.get(o.goal) ?? []) : [])]);
      for (const key of keys) {
        let g = joined.get(key);
        if (g === undefined) joined.set(key, (g = []));
        g.push(o);
        if (!groups.has(key)) groups.set(key, []);
      }
    }
  }
  const exist = groups.size === 0 ? new Set<string>() : await experimentKeys(kvOf(env), groups.keys(), now);
  const known = [...groups.keys()].map((key) => joined.has(key) || exist.has(key));
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
      const extra = joined.get(key) ?? [];
      n += list.length + extra.length;
      await env.EXPERIMENTS.get(env.EXPERIMENTS.idFromName(key)).ingest(list, extra);
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
