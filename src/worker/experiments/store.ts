/**
 * Experiments in KV. `experiment/<key>` holds the current experiment (what the Worker reads,
 * through the config store's isolate cache); every write also keeps an immutable copy at
 * `experiment-version/<key>/<version>`, so any past config can be inspected or restored.
 */
import type { Experiment } from '../../core/experiments/experiment.ts';
import { clearConfigCache, readConfig } from '../config-store.ts';
import type { StoreOptions } from '../model-store.ts';

export const currentKey = (key: string) => `experiment/${key}`;
export const versionKey = (key: string, version: number) => `experiment-version/${key}/${String(version).padStart(6, '0')}`;
/** The model name posterior snapshots are published under. */
export const snapshotName = (key: string) => `exp.${key}`;

/** A light shape check for what we wrote ourselves; the full validation ran at write time. */
export function parseExperiment(raw: unknown): Experiment | null {
  const e = raw as Experiment;
  return typeof e?.key === 'string' && Array.isArray(e.arms) && typeof e.status === 'string' && typeof e.version === 'number' ? e : null;
}

export async function loadExperiment(kv: KVNamespace, key: string): Promise<Experiment | null> {
  return parseExperiment(await kv.get(currentKey(key), 'json'));
}

export async function saveExperiment(kv: KVNamespace, e: Experiment): Promise<void> {
  const body = JSON.stringify(e);
  await kv.put(versionKey(e.key, e.version), body);
  await kv.put(currentKey(e.key), body);
  clearConfigCache(); // this isolate sees its own write at once; others within the refresh interval
}

export async function listExperiments(kv: KVNamespace): Promise<Experiment[]> {
  const out: Experiment[] = [];
  let cursor: string | undefined;
  do {
    const page = await kv.list({ prefix: 'experiment/', ...(cursor ? { cursor } : {}) });
    const values = await Promise.all(page.keys.map((k) => kv.get(k.name, 'json')));
    for (const v of values) {
      const e = parseExperiment(v);
      if (e) out.push(e);
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return out;
}

export async function listVersions(kv: KVNamespace, key: string): Promise<number[]> {
  const page = await kv.list({ prefix: `experiment-version/${key}/` });
  return page.keys.map((k) => Number(k.name.slice(k.name.lastIndexOf('/') + 1)));
}

/** The experiment as the decision path sees it: cached per isolate, refreshed in the background. */
export function cachedExperiment(kv: KVNamespace, key: string, opts: StoreOptions): Promise<Experiment | null> {
  return readConfig<Experiment | null>(kv, currentKey(key), parseExperiment, null, opts);
}
