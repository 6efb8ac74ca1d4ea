/**
 * The per-isolate cache of what the Worker reads from KV on every request (model manifests,
 * JSON configs): a request never waits on KV for a key this isolate holds; the key is re-read
 * in the background (`waitUntil`) at most every `refreshMs`. A key's first read is shared by
 * the requests that want it meanwhile.
 *
 * Keys come from callers too (a decide slot names any model or experiment), so a key waits in
 * `pending` while its first read is under way and goes to `known` only if KV has something
 * there, else to `missing` until the next refresh interval: made-up keys, however many at once
 * and whether or not KV answers, only ever evict other misses, never a key the site uses. Both
 * maps are bounded, oldest entry first out; `pending` holds only reads in flight.
 *
 * Keep-alive: every read that other requests may wait on is handed to `waitUntil`. The runtime
 * cancels a request's unfinished I/O when the request ends (its response sent, or the client
 * gone), and a shared read cancelled that way would never settle: every later request for the
 * key would wait on it forever.
 */

/** How one request uses a per-isolate cache: its clock, the refresh interval, and its `waitUntil`. */
export interface StoreOptions {
  readonly now: number;
  readonly refreshMs: number;
  readonly waitUntil: (p: Promise<unknown>) => void;
}

/** What a read found: a value to hold, or why there is none (held as a miss until the next interval). */
export type CacheRead<V, M> = { readonly value: V } | { readonly miss: M };

/**
 * Reads `key` from the store. `held` is what the cache holds for it (undefined on a first read),
 * so a reader can keep the last good value when the store has a bad one or fails; `ctx` is the
 * calling request's (its KV binding, say). Never throws.
 */
export type CacheReader<V, M, C> = (key: string, held: V | undefined, ctx: C) => Promise<CacheRead<V, M>>;

interface Entry<V, M> {
  value: V | undefined;
  miss: M | undefined;
  fetchedAt: number;
  refreshing: Promise<void> | null;
}

export interface RefreshCache<V, M, C> {
  /**
   * What `key` holds, or why nothing; a first read is awaited, later ones run in the background.
   * A read shared by several requests is made with the `ctx` of the one that started it.
   */
  get(key: string, opts: StoreOptions, ctx: C): Promise<CacheRead<V, M>>;
  /** Without reading: `key`'s value, or `pending` (a first read under way), `missing` (a miss held), or undefined (never read). */
  peek(key: string): { readonly value: V } | 'pending' | 'missing' | undefined;
  delete(key: string): void;
  clear(): void;
  /** keys held (`known`) and misses held (`missing`) */
  counts(): { known: number; missing: number };
}

export function refreshCache<V, M, C>(read: CacheReader<V, M, C>, limit = 1024): RefreshCache<V, M, C> {
  const known = new Map<string, Entry<V, M>>();
  const pending = new Map<string, Entry<V, M>>();
  const missing = new Map<string, { at: number; why: M }>();

  const setBounded = <T>(map: Map<string, T>, key: string, value: T): void => {
    if (!map.has(key) && map.size >= limit) map.delete(map.keys().next().value!);
    map.set(key, value);
  };

  async function readInto(key: string, e: Entry<V, M>, now: number, ctx: C): Promise<void> {
    const r = await read(key, e.value, ctx);
    e.fetchedAt = now;
    const cold = pending.get(key) === e;
    if (cold) pending.delete(key);
    if ('miss' in r) {
      e.miss = r.miss;
      if (cold || known.get(key) === e) {
        known.delete(key); // gone from the store since the last read, or never there
        setBounded(missing, key, { at: now, why: r.miss });
      }
    } else {
      e.value = r.value;
      e.miss = undefined;
      if (cold) setBounded(known, key, e);
    }
  }

  function start(key: string, e: Entry<V, M>, opts: StoreOptions, ctx: C): Promise<void> {
    const p = readInto(key, e, opts.now, ctx).finally(() => {
      e.refreshing = null;
    });
    e.refreshing = p;
    opts.waitUntil(p); // shared: it must outlive this request (the keep-alive note above)
    return p;
  }

  const result = (e: Entry<V, M>): CacheRead<V, M> => (e.miss !== undefined ? { miss: e.miss } : { value: e.value as V });

  return {
    async get(key, opts, ctx) {
      let e = known.get(key);
      if (e !== undefined) {
        if (opts.now - e.fetchedAt >= opts.refreshMs && e.refreshing === null) void start(key, e, opts, ctx);
        return result(e);
      }
      e = pending.get(key);
      if (e !== undefined) {
        await e.refreshing; // another request is doing the first read
        return result(e);
      }
      const missed = missing.get(key);
      if (missed !== undefined && opts.now - missed.at < opts.refreshMs) return { miss: missed.why };
      missing.delete(key);
      e = { value: undefined, miss: undefined, fetchedAt: 0, refreshing: null };
      pending.set(key, e);
      await start(key, e, opts, ctx);
      return result(e);
    },
    peek(key) {
      const e = known.get(key);
      if (e !== undefined) return { value: e.value as V };
      if (pending.has(key)) return 'pending';
      return missing.has(key) ? 'missing' : undefined;
    },
    delete(key) {
      known.delete(key);
      pending.delete(key);
      missing.delete(key);
    },
    clear() {
      known.clear();
      pending.clear();
      missing.clear();
    },
    counts: () => ({ known: known.size, missing: missing.size }),
  };
}
