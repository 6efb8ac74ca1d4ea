/**
 * An experiment's posterior as a model snapshot in KV (model `exp.<key>`), which the Worker
 * serves from like any other model, and the history of what each snapshot allocated (charts).
 */
import { allocate, probabilityBest } from '../../core/bandits/allocation.ts';
import { encodeSnapshot } from '../../core/bandits/snapshot.ts';
import { excludePaused, pausedArms, type Experiment } from '../../core/experiments/experiment.ts';
import { murmur3 } from '../../core/murmur3.ts';
import { manifestKey, modelKey, siteDataPrefix } from '../../core/store-keys.ts';
import { kvOf } from '../shared/bindings.ts';
import { prefixedKv } from '../shared/kv-view.ts';
import type { AggregatorState } from './aggregator-state.ts';
import { snapshotName } from './store.ts';

/** Snapshots are superseded within seconds; old ones expire instead of piling up in KV. */
const SNAPSHOT_TTL_SECONDS = 3600;
/** A live test republishes at least this often, so its active snapshot never reaches the TTL. */
export const HEARTBEAT_MS = 20 * 60_000;
const HISTORY_ROWS = 2000;

export interface HistoryPoint {
  readonly t: number;
  readonly allocation: number[];
  readonly probabilityBest: number[];
  readonly impressions: number[];
  readonly conversions: number[];
}

/**
 * Computes the allocation, writes the snapshot blob under the site's keys then flips the manifest;
 * the state records what it published. Returns the point for the history.
 */
export async function publishSnapshot(env: Env, site: string, exp: Experiment, s: AggregatorState, now: number): Promise<HistoryPoint> {
  const k = exp.arms.length;
  const seed = murmur3(exp.key, exp.epoch);
  const allocation = new Float64Array(k);
  // Contextual tests allocate per visitor; the snapshot's ALLO is their Thompson allocation on counts (shown in charts).
  allocate(exp.algorithm.name === 'linear-thompson' ? { ...exp.algorithm, name: 'thompson' } : exp.algorithm, s.counts, seed, allocation);
  excludePaused(
    allocation,
    exp.arms.map((a) => a.key),
    pausedArms(exp),
  );
  const pBest = new Float64Array(k);
  probabilityBest(s.counts, 4000, seed, pBest);
  s.seq += 1;
  const version = `${exp.epoch}.${s.seq}`;
  const name = snapshotName(exp.key);
  const blob = encodeSnapshot({
    name,
    version,
    arms: exp.arms.map((a) => a.key),
    algorithm: exp.algorithm.name,
    floor: exp.algorithm.floor,
    epoch: exp.epoch,
    publishedAt: now,
    counts: s.counts,
    allocation,
    model: s.model,
  });
  const kv = prefixedKv(kvOf(env), siteDataPrefix(site));
  await kv.put(modelKey(name, version), blob, { expirationTtl: SNAPSHOT_TTL_SECONDS });
  await kv.put(manifestKey(name), JSON.stringify({ name, kind: 'bandit', active: version, history: [{ version, at: now }] }));
  s.published = { version, at: now };
  return {
    t: now,
    allocation: Array.from(allocation),
    probabilityBest: Array.from(pBest),
    impressions: Array.from(s.counts.impressions),
    conversions: Array.from(s.counts.conversions),
  };
}

/** Adds a point to the history, which keeps the latest HISTORY_ROWS. */
export function recordHistory(sql: SqlStorage, point: HistoryPoint): void {
  sql.exec('INSERT OR REPLACE INTO history VALUES (?, ?)', point.t, JSON.stringify(point));
  sql.exec('DELETE FROM history WHERE t NOT IN (SELECT t FROM history ORDER BY t DESC LIMIT ?)', HISTORY_ROWS);
}

export function readHistory(sql: SqlStorage): HistoryPoint[] {
  return sql
    .exec<{ point: string }>('SELECT point FROM history ORDER BY t')
    .toArray()
    .map((r) => JSON.parse(r.point));
}
