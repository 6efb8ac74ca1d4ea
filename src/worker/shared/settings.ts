/**
 * What the Worker reads from its environment beyond bindings: the signing secret and the
 * refresh interval of per-isolate caches.
 */
import type { StoreOptions } from '../models/model-store.ts';
import type { AppContext } from './types.ts';

let warnedNoSecret = false;

/** The signing secret, or undefined (logged once per isolate) when the deployment lacks it. */
export function profileSecret(c: AppContext): string | undefined {
  const s = c.env.PROFILE_SECRET;
  if (s) return s;
  if (!warnedNoSecret) {
    warnedNoSecret = true;
    console.error(
      JSON.stringify({
        msg: 'PROFILE_SECRET is not set: visitor profiles are disabled and bid notices refused; set it with `wrangler secret put PROFILE_SECRET`',
      }),
    );
  }
  return undefined;
}

export function storeOptions(c: AppContext, now: number): StoreOptions {
  const seconds = Number(c.env.MODEL_REFRESH_SECONDS ?? 5);
  return {
    now,
    refreshMs: Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 5000,
    waitUntil: (p) => c.executionCtx.waitUntil(p),
  };
}
