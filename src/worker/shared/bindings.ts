/**
 * Bindings read under the names they had before, for one release (docs/operations.md): the KV
 * namespace was bound as `MODELS`, though it holds campaigns, rates, segments, page rules and
 * experiments too. A deployment whose own wrangler config still binds `MODELS` keeps working,
 * and the log says once per isolate to rename it.
 */
import { log } from './log.ts';

let warned = false;

/** The Worker's KV namespace: `KV`, else (deprecated) `MODELS`. */
export function kvOf(env: { readonly KV?: KVNamespace }): KVNamespace {
  const kv = env.KV;
  if (kv !== undefined) return kv;
  const legacy = (env as { MODELS?: KVNamespace }).MODELS;
  if (legacy === undefined) throw new Error('no KV namespace is bound: bind it as KV (wrangler.toml)');
  if (!warned) {
    warned = true;
    log.warn('the KV namespace is bound as MODELS, a name deprecated for KV: rename the binding in your wrangler config');
  }
  return legacy;
}
