/**
 * Small JSON configs in KV (segment rules, page rules, campaigns), cached per isolate and
 * refreshed in the background like model manifests. A config that fails validation is
 * logged and ignored: the last good one (or the default) stays in force.
 */
import type { StoreOptions } from './model-store.ts';

interface Slot<T> {
  value: T;
  fetchedAt: number;
  refreshing: Promise<void> | null;
}

const slots = new Map<string, Slot<unknown>>();

export function clearConfigCache(): void {
  slots.clear();
}

async function refresh<T>(kv: KVNamespace, key: string, parse: (raw: unknown) => T | null, slot: Slot<T>, fallback: T, now: number): Promise<void> {
  try {
    const raw = await kv.get(key, 'json');
    if (raw === null) slot.value = fallback;
    else {
      const parsed = parse(raw);
      if (parsed === null) console.error(JSON.stringify({ msg: 'config rejected, keeping the last good one', key }));
      else slot.value = parsed;
    }
  } catch (err) {
    console.error(JSON.stringify({ msg: 'config read failed', key, error: String(err) }));
  }
  slot.fetchedAt = now;
}

/** The parsed config at `key`, or `fallback` when absent. */
export async function readConfig<T>(
  kv: KVNamespace, key: string, parse: (raw: unknown) => T | null, fallback: T, opts: StoreOptions,
): Promise<T> {
  let slot = slots.get(key) as Slot<T> | undefined;
  if (slot === undefined) {
    const s: Slot<T> = { value: fallback, fetchedAt: 0, refreshing: null };
    slots.set(key, s as Slot<unknown>);
    s.refreshing = refresh(kv, key, parse, s, fallback, opts.now).finally(() => { s.refreshing = null; });
    opts.waitUntil(s.refreshing); // shared with concurrent requests: it must outlive this one (model-store.ts)
    await s.refreshing;
    return s.value;
  }
  if (slot.fetchedAt === 0 && slot.refreshing) await slot.refreshing;
  else if (opts.now - slot.fetchedAt >= opts.refreshMs && slot.refreshing === null) {
    const s = slot;
    s.refreshing = refresh(kv, key, parse, s, fallback, opts.now).finally(() => { s.refreshing = null; });
    opts.waitUntil(s.refreshing);
  }
  return slot.value;
}
