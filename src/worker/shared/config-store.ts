/**
 * Small JSON configs in KV (segment rules, page rules, campaigns), cached per isolate and
 * refreshed in the background like model manifests. A config that fails validation is
 * logged and ignored: the last good one (or the default) stays in force.
 */
import type { StoreOptions } from '../models/model-store.ts';

interface Slot<T> {
  value: T;
  fetchedAt: number;
  refreshing: Promise<void> | null;
  /** KV has held a value at this key (good or not) since this isolate first read it */
  found: boolean;
}

/**
 * Keys come from callers too (an experiment key in a decide slot), so only keys KV holds (written
 * by admins: few) stay in `slots`; a key KV has nothing at goes to `absent` until the next
 * refresh interval, a map bounded oldest-first, so made-up keys only ever evict other made-up keys.
 */
const slots = new Map<string, Slot<unknown>>();
const absent = new Map<string, number>();
const MAX_ABSENT = 1024;

export function clearConfigCache(): void {
  slots.clear();
  absent.clear();
}

/** How many keys this isolate holds: KV's (`known`) and ones KV had nothing at (`absent`, bounded). */
export function cachedConfigCount(): { known: number; absent: number } {
  return { known: slots.size, absent: absent.size };
}

async function refresh<T>(
  kv: KVNamespace,
  key: string,
  parse: (raw: unknown) => T | null,
  slot: Slot<T>,
  fallback: T,
  now: number,
): Promise<void> {
  try {
    const raw = await kv.get(key, 'json');
    if (raw === null) slot.value = fallback;
    else {
      slot.found = true;
      const parsed = parse(raw);
      if (parsed === null) console.error(JSON.stringify({ msg: 'config rejected, keeping the last good one', key }));
      else slot.value = parsed;
    }
  } catch (err) {
    console.error(JSON.stringify({ msg: 'config read failed', key, error: String(err) }));
  }
  slot.fetchedAt = now;
  if (!slot.found && slots.get(key) === slot) {
    // nothing there (or a first read failed): remembered as a miss, not a slot
    slots.delete(key);
    if (!absent.has(key) && absent.size >= MAX_ABSENT) absent.delete(absent.keys().next().value!);
    absent.set(key, now);
  }
}

/** The parsed config at `key`, or `fallback` when absent. */
export async function readConfig<T>(
  kv: KVNamespace,
  key: string,
  parse: (raw: unknown) => T | null,
  fallback: T,
  opts: StoreOptions,
): Promise<T> {
  const slot = slots.get(key) as Slot<T> | undefined;
  if (slot === undefined) {
    const missed = absent.get(key);
    if (missed !== undefined && opts.now - missed < opts.refreshMs) return fallback;
    absent.delete(key);
    const s: Slot<T> = { value: fallback, fetchedAt: 0, refreshing: null, found: false };
    slots.set(key, s as Slot<unknown>);
    s.refreshing = refresh(kv, key, parse, s, fallback, opts.now).finally(() => {
      s.refreshing = null;
    });
    opts.waitUntil(s.refreshing); // shared with concurrent requests: it must outlive this one (model-store.ts)
    await s.refreshing;
    return s.value;
  }
  if (slot.fetchedAt === 0 && slot.refreshing) await slot.refreshing;
  else if (opts.now - slot.fetchedAt >= opts.refreshMs && slot.refreshing === null) {
    const s = slot;
    s.refreshing = refresh(kv, key, parse, s, fallback, opts.now).finally(() => {
      s.refreshing = null;
    });
    opts.waitUntil(s.refreshing);
  }
  return slot.value;
}
