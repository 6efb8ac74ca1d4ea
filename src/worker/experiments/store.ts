/**
 * Experiments in KV (core/store-keys.ts). `experiment/<key>` holds the current experiment (what the Worker reads,
 * through the config store's isolate cache); every write also keeps an immutable copy at
 * `experiment-version/<key>/<version>`, so any past config can be inspected or restored.
 */
import type { Experiment, ExperimentConfig, ExperimentStatus } from '../../core/experiments/experiment.ts';
import { SNAPSHOT_PREFIX } from '../../core/model-registry.ts';
import { EXPERIMENT_PREFIX, experimentKey, experimentVersionKey, experimentVersionPrefix } from '../../core/store-keys.ts';
import { clearConfigCache, readConfig } from '../shared/config-store.ts';
import { kvKeyPrefix } from '../shared/kv-view.ts';
import type { StoreOptions } from '../shared/refresh-cache.ts';
import type { parseExperimentConfig } from './schema.ts';

/** The model name posterior snapshots are published under. */
export const snapshotName = (key: string) => `${SNAPSHOT_PREFIX}${key}`;

const STATUSES: ReadonlySet<string> = new Set<ExperimentStatus>(['draft', 'running', 'paused', 'stopped', 'archived']);

/**
 * A stored experiment, validated as fully as one written through the admin API (the config
 * schema, then the status fields): KV can also be written by hand, and a config the decision
 * path cannot read must be refused here (the config store keeps the last good one) rather than
 * fail requests.
 */
function parseExperiment(raw: unknown, parseConfig: typeof parseExperimentConfig): Experiment | null {
  const e = raw as Partial<Experiment> | null;
  if (typeof e !== 'object' || e === null || !STATUSES.has(e.status as string)) return null;
  if (!Number.isInteger(e.version) || !Number.isInteger(e.epoch)) return null;
  let config: ExperimentConfig;
  try {
    config = parseConfig(raw);
  } catch {
    return null;
  }
  const winner = typeof e.winner === 'string' && config.arms.some((a) => a.key === e.winner) ? e.winner : null;
  const paused = Array.isArray(e.pausedArms) ? e.pausedArms.filter((a) => config.arms.some((arm) => arm.key === a)) : [];
  return {
    ...config,
    status: e.status!,
    version: e.version!,
    epoch: e.epoch!,
    winner,
    createdAt: Number(e.createdAt) || 0,
    updatedAt: Number(e.updatedAt) || 0,
    history: Array.isArray(e.history) ? e.history : [],
    ...(paused.length > 0 ? { pausedArms: paused } : {}),
  };
}

let parseStored: ((raw: unknown) => Experiment | null) | undefined;

/**
 * `parseExperiment` with the config schema, loaded by the first read of a stored experiment:
 * the schema is built when its module loads, and an isolate whose requests name no experiment
 * need never build it.
 */
async function storedParser(): Promise<(raw: unknown) => Experiment | null> {
  if (parseStored === undefined) {
    const { parseExperimentConfig } = await import('./schema.ts');
    parseStored = (raw) => parseExperiment(raw, parseExperimentConfig);
  }
  return parseStored;
}

export async function loadExperiment(kv: KVNamespace, key: string): Promise<Experiment | null> {
  const [parse, raw] = await Promise.all([storedParser(), kv.get(experimentKey(key), 'json')]);
  return parse(raw);
}

export async function saveExperiment(kv: KVNamespace, e: Experiment): Promise<void> {
  const body = JSON.stringify(e);
  await kv.put(experimentVersionKey(e.key, e.version), body);
  await kv.put(experimentKey(e.key), body);
  clearConfigCache(); // this isolate sees its own write at once; others within the refresh interval
  clearExperimentKeys();
}

/** How old this isolate's list of experiment keys may be before a name not on it re-lists them. */
const RELIST_ON_MISS_MS = 5_000;
/** How old it may be at all (an experiment deleted by hand drops off). */
const MAX_LIST_AGE_MS = 5 * 60_000;

/** Each site's list (by its KV view's prefix, shared/kv-view.ts; '' the default site's), and the listing under way. */
const lists = new Map<
  string,
  { listed: { readonly keys: ReadonlySet<string>; readonly at: number } | null; listing: Promise<ReadonlySet<string>> | null }
>();

/**
 * The keys of the experiments that exist, from a per-isolate list of `experiment/` keys. Names
 * come from anyone (events name any experiment), so a name not on the list never costs a read of
 * its own: it re-lists at most every RELIST_ON_MISS_MS, a few KV list calls however many names
 * a batch makes up. A new experiment is on the list at once in the isolate that wrote it, in
 * others after that interval (and KV's own propagation).
 */
export async function experimentKeys(kv: KVNamespace, names: Iterable<string>, now = Date.now()): Promise<ReadonlySet<string>> {
  const site = kvKeyPrefix(kv);
  let list = lists.get(site);
  if (list === undefined) lists.set(site, (list = { listed: null, listing: null }));
  const held = list.listed;
  if (held !== null && now - held.at < MAX_LIST_AGE_MS) {
    if (now - held.at < RELIST_ON_MISS_MS || [...names].every((k) => held.keys.has(k))) return held.keys;
  }
  const own = list;
  own.listing ??= listKeys(kv)
    .then((keys) => {
      own.listed = { keys, at: now };
      return keys;
    })
    .finally(() => {
      own.listing = null;
    });
  return own.listing;
}

async function listKeys(kv: KVNamespace): Promise<ReadonlySet<string>> {
  const keys = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await kv.list({ prefix: EXPERIMENT_PREFIX, ...(cursor ? { cursor } : {}) });
    for (const k of page.keys) keys.add(k.name.slice(EXPERIMENT_PREFIX.length));
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return keys;
}

export function clearExperimentKeys(): void {
  for (const list of lists.values()) list.listed = null;
}

export async function listExperiments(kv: KVNamespace): Promise<Experiment[]> {
  const out: Experiment[] = [];
  const parse = await storedParser();
  let cursor: string | undefined;
  do {
    const page = await kv.list({ prefix: EXPERIMENT_PREFIX, ...(cursor ? { cursor } : {}) });
    const values = await Promise.all(page.keys.map((k) => kv.get(k.name, 'json')));
    for (const v of values) {
      const e = parse(v);
      if (e) out.push(e);
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return out;
}

export async function listVersions(kv: KVNamespace, key: string): Promise<number[]> {
  const page = await kv.list({ prefix: experimentVersionPrefix(key) });
  return page.keys.map((k) => Number(k.name.slice(k.name.lastIndexOf('/') + 1)));
}

/** The experiment as the decision path sees it: cached per isolate, refreshed in the background. */
export async function cachedExperiment(kv: KVNamespace, key: string, opts: StoreOptions): Promise<Experiment | null> {
  return readConfig<Experiment | null>(kv, experimentKey(key), parseStored ?? (await storedParser()), null, opts);
}
