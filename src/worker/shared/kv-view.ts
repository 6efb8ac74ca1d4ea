/**
 * A KV namespace seen through a key prefix (a named site's keys, core/store-keys.ts
 * `siteDataPrefix`): every key read or written gets the prefix, listed names come back without
 * it. The per-isolate caches (config-store.ts, models/model-store.ts) key their entries by the
 * full key, `kvKeyPrefix(kv) + key`, so two views' keys of the same name never share an entry.
 */
const PREFIX = Symbol('attune.kvPrefix');
const BASE = Symbol('attune.kvBase');
type Viewed = KVNamespace & { [PREFIX]?: string; [BASE]?: KVNamespace };

/** The prefix `kv` adds to every key ('' for the Worker's own namespace). */
export function kvKeyPrefix(kv: KVNamespace): string {
  return (kv as Viewed)[PREFIX] ?? '';
}

/** The namespace under a view (`kv` itself when it is none). */
export function kvBase(kv: KVNamespace): KVNamespace {
  return (kv as Viewed)[BASE] ?? kv;
}

/** `kv` with every key under `prefix`; listed names come back without it. */
export function prefixedKv(kv: KVNamespace, prefix: string): KVNamespace {
  if (prefix === '') return kv;
  const k = (key: string) => prefix + key;
  const view = {
    [PREFIX]: prefix,
    [BASE]: kv,
    get: (key: string | string[], opts?: unknown) =>
      (kv.get as (k: unknown, o?: unknown) => unknown)(Array.isArray(key) ? key.map(k) : k(key), opts),
    getWithMetadata: (key: string, opts?: unknown) => (kv.getWithMetadata as (k: string, o?: unknown) => unknown)(k(key), opts),
    put: (key: string, value: unknown, opts?: KVNamespacePutOptions) => kv.put(k(key), value as string, opts),
    delete: (key: string) => kv.delete(k(key)),
    list: async (opts?: KVNamespaceListOptions) => {
      const page = await kv.list({ ...opts, prefix: prefix + (opts?.prefix ?? '') });
      return { ...page, keys: page.keys.map((x) => ({ ...x, name: x.name.slice(prefix.length) })) };
    },
  };
  return view as unknown as KVNamespace;
}
