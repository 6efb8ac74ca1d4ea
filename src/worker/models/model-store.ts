/**
 * Models in KV, cached per isolate.
 *
 * A warm request never waits on KV: manifests are held in a refresh cache (refresh-cache.ts:
 * re-read in the background at most every MODEL_REFRESH_SECONDS, first reads shared, made-up
 * names held as bounded misses); decoded models are cached by their immutable key, so a
 * manifest flip costs one KV read and one decode per isolate. Concurrent cold loads of the same
 * key share one promise. A missing, corrupt or truncated blob, or one built for another feature
 * spec, resolves to a failure the caller turns into the safe fallback; failures are cached until
 * the next refresh so a broken model costs one KV read per interval, not one per request. A
 * manifest that does not validate (a hand edit gone wrong) never replaces a good one this
 * isolate holds; with none to keep, the model's slots fall back (`corrupt`), as an unknown (or
 * deleted) name's do (`unknownModel`). Blob reads others may wait on are kept alive with
 * `waitUntil`, as the cache's are (refresh-cache.ts says why).
 */

import { decodeEnvelope, type Envelope, type ModelKind } from '../../core/model-format.ts';
import { checkFeatureSpec, readManifest, type Manifest } from '../../core/model-registry.ts';
import { manifestKey, modelKey } from '../../core/store-keys.ts';
import { kvKeyPrefix } from '../shared/kv-view.ts';
import { log } from '../shared/log.ts';
import { refreshCache, type StoreOptions } from '../shared/refresh-cache.ts';

export type FallbackReason = 'missing' | 'corrupt' | 'truncated' | 'featureSpec' | 'wrongKind' | 'unavailable';

export type Adapted<T> = { ok: true; model: T } | { ok: false; reason: string };
/** Turns a decoded envelope into a kind's model view; `kind` (the envelope's, core/model-format.ts) names the adapter in cache keys. */
export interface ModelAdapter<T> {
  readonly kind: ModelKind;
  readonly adapt: (env: Envelope) => Adapted<T>;
}

export type Resolved<T> =
  | { ok: true; model: T; version: string }
  | { ok: false; reason: FallbackReason; version: string | null }
  | { ok: false; reason: 'unknownModel'; version: null };

/** Why a name has no manifest here: KV has none, or its first read failed (KV unavailable). */
type Miss = 'unknownModel' | 'unavailable';
/** A manifest that does not validate, where no good one was seen before it. */
const UNREADABLE = 'unreadable';

/** Manifests by model name, bounded (refresh-cache.ts): a made-up name never evicts a model the site uses. */
const manifests = refreshCache<Manifest | typeof UNREADABLE, Miss, KVNamespace>(async (key, held, kv) => {
  const name = key.slice(kvKeyPrefix(kv).length); // the key is the view's prefix + the name (a site's models: kv-view.ts)
  try {
    const read = readManifest(await kv.get(manifestKey(name), 'text'));
    if (read.state === 'ok') return { value: read.manifest };
    if (read.state === 'absent') return { miss: 'unknownModel' };
    // a hand edit gone wrong: keep serving the last good manifest rather than nothing
    log.error('manifest unreadable', { model: name, keeping: held !== undefined && held !== UNREADABLE ? held.active : null });
    return { value: held ?? UNREADABLE };
  } catch (err) {
    log.error('manifest read failed', { model: name, error: String(err) });
    return held === undefined ? { miss: 'unavailable' } : { value: held };
  }
});
const models = new Map<string, { result: Resolved<unknown>; at: number }>();
const inflight = new Map<string, Promise<Resolved<unknown>>>();

/** How many model names this isolate holds a manifest entry for (bounded, 1024 each). */
export function cachedManifestCount(): { known: number; missing: number } {
  return manifests.counts();
}

/** Empties this isolate's caches (tests, and after an admin publish in this isolate). */
export function clearModelCache(name?: string, kv?: KVNamespace): void {
  if (name === undefined) {
    manifests.clear();
    models.clear();
    return;
  }
  const prefix = kv === undefined ? '' : kvKeyPrefix(kv);
  manifests.delete(prefix + name);
  for (const key of models.keys()) if (key.includes(`|${prefix}${modelKey(name, '')}`)) models.delete(key);
}

async function loadBlob<T>(kv: KVNamespace, name: string, version: string, adapter: ModelAdapter<T>): Promise<Resolved<T>> {
  let blob: ArrayBuffer | null;
  try {
    blob = await kv.get(modelKey(name, version), 'arrayBuffer');
  } catch (err) {
    log.error('model read failed', { model: name, version, error: String(err) });
    return { ok: false, reason: 'unavailable', version };
  }
  if (blob === null) return { ok: false, reason: 'missing', version };
  const decoded = decodeEnvelope(blob);
  if (!decoded.ok) return { ok: false, reason: decoded.reason === 'truncated' ? 'truncated' : 'corrupt', version };
  const spec = checkFeatureSpec(decoded.envelope);
  if (!spec.ok) return { ok: false, reason: 'featureSpec', version };
  const adapted = adapter.adapt(decoded.envelope);
  if (!adapted.ok) return { ok: false, reason: adapted.reason === 'wrongKind' ? 'wrongKind' : 'corrupt', version };
  return { ok: true, model: adapted.model, version };
}

/** The active version of model `name`, decoded by `adapter`, or why it cannot be used. */
export async function resolveModel<T>(kv: KVNamespace, name: string, adapter: ModelAdapter<T>, opts: StoreOptions): Promise<Resolved<T>> {
  const prefix = kvKeyPrefix(kv);
  const held = await manifests.get(prefix + name, opts, kv);
  if ('miss' in held) return { ok: false, reason: held.miss, version: null };
  if (held.value === UNREADABLE) return { ok: false, reason: 'corrupt', version: null };
  const version = held.value.active;
  const key = `${adapter.kind}|${prefix}${modelKey(name, version)}`;
  const cached = models.get(key);
  // Successes are immutable; failures are retried once the refresh interval has passed.
  if (cached && (cached.result.ok || opts.now - cached.at < opts.refreshMs)) return cached.result as Resolved<T>;
  let pending = inflight.get(key) as Promise<Resolved<T>> | undefined;
  if (pending === undefined) {
    pending = loadBlob(kv, name, version, adapter);
    inflight.set(key, pending);
    opts.waitUntil(pending); // shared: it must outlive this request (the keep-alive note above)
  }
  try {
    const result = await pending;
    if (!models.has(key) || models.get(key)!.result !== result) {
      // keep one version per model and adapter: drop what the manifest no longer names
      const same = `${adapter.kind}|${prefix}${modelKey(name, '')}`;
      for (const k of models.keys()) if (k.startsWith(same) && k !== key) models.delete(k);
      models.set(key, { result, at: opts.now });
      if (!result.ok) log.warn('model fallback', { model: name, version, reason: result.reason });
    }
    return result;
  } finally {
    inflight.delete(key);
  }
}

/**
 * Starts loading a model this request will resolve later, when this isolate does not hold it
 * yet (no manifest, or no decoded blob of the active version), so its KV reads overlap the
 * request's other I/O (cookies, segment rules, other slots' models) instead of following
 * them. The later `resolveModel` shares the reads. A warm model costs two map lookups.
 */
export function preloadModel<T>(kv: KVNamespace, name: string, adapter: ModelAdapter<T>, opts: StoreOptions): void {
  const prefix = kvKeyPrefix(kv);
  const held = manifests.peek(prefix + name);
  if (typeof held === 'object' && held.value !== UNREADABLE) {
    const key = `${adapter.kind}|${prefix}${modelKey(name, held.value.active)}`;
    if (models.has(key) || inflight.has(key)) return;
  } else if (held !== undefined) return; // a read is under way, the manifest is unreadable, or the model is missing until the next refresh
  // Kept alive past this request: it may end (a strict call's 404 on another slot) before the reads do.
  opts.waitUntil(resolveModel(kv, name, adapter, opts).catch(() => {})); // failures are reported on the real call
}
