/**
 * Small JSON configs in KV (segment rules, page rules, campaigns, FX rates, experiments),
 * cached per isolate and refreshed in the background like model manifests (refresh-cache.ts).
 * A config that fails validation is logged and ignored: the last good one (or the default)
 * stays in force. A key KV has nothing at reads as the default and is held as a miss until the
 * next refresh interval, in a bounded set, so made-up keys (an experiment key in a decide slot)
 * only ever evict other made-up keys.
 */
import { log } from './log.ts';
import { kvBase, kvKeyPrefix } from './kv-view.ts';
import { refreshCache, type StoreOptions } from './refresh-cache.ts';

/** A config as held: its parsed value, or null while none has been valid (the default applies). */
interface Held {
  readonly parsed: unknown;
}

interface ReadWith {
  readonly kv: KVNamespace;
  readonly parse: (raw: unknown) => unknown;
}

const configs = refreshCache<Held, 'absent', ReadWith>(async (key, held, { kv, parse }) => {
  try {
    const raw = await kv.get(key, 'json');
    // deleted since the last read: the default applies, and the key stays held (KV had it once)
    if (raw === null) return held === undefined ? { miss: 'absent' } : { value: { parsed: null } };
    const parsed = parse(raw);
    if (parsed !== null) return { value: { parsed } };
    log.error('config rejected, keeping the last good one', { key });
    return { value: held ?? { parsed: null } };
  } catch (err) {
    log.error('config read failed', { key, error: String(err) });
    return held === undefined ? { miss: 'absent' } : { value: held };
  }
});

export function clearConfigCache(): void {
  configs.clear();
}

/** How many keys this isolate holds: KV's (`known`) and ones KV had nothing at (`absent`, bounded). */
export function cachedConfigCount(): { known: number; absent: number } {
  const { known, missing } = configs.counts();
  return { known, absent: missing };
}

/** The parsed config at `key`, or `fallback` when absent (or never valid). */
export async function readConfig<T>(
  kv: KVNamespace,
  key: string,
  parse: (raw: unknown) => T | null,
  fallback: T,
  opts: StoreOptions,
): Promise<T> {
  // a site's view of KV (kv-view.ts): cached under the full key, read from the namespace under it
  const r = await configs.get(kvKeyPrefix(kv) + key, opts, { kv: kvBase(kv), parse });
  return 'miss' in r || r.value.parsed === null ? fallback : (r.value.parsed as T);
}
