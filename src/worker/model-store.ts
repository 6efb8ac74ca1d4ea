/**
 * Models in KV, cached per isolate.
 *
 * A warm request never waits on KV: manifests are served from module scope and re-read in
 * the background (`waitUntil`) at most every MODEL_REFRESH_SECONDS; decoded models are cached
 * by their immutable key, so a manifest flip costs one KV read and one decode per isolate.
 * Concurrent cold loads of the same key share one promise. A missing, corrupt or truncated
 * blob, or one built for another feature spec, resolves to a failure the caller turns into
 * the safe fallback; failures are cached until the next refresh so a broken model costs one
 * KV read per interval, not one per request.
 *
 * Keep-alive: every read that other requests may wait on is handed to `waitUntil`. The runtime
 * cancels a request's unfinished I/O when the request ends (its response sent, or the client
 * gone), and a shared read cancelled that way would never settle: every later request for the
 * model would wait on it forever.
 */

import { decodeEnvelope, type Envelope } from '../core/model-format.ts';
import { checkFeatureSpec, manifestKey, modelKey, parseManifest, type Manifest } from '../core/model-registry.ts';

export type FallbackReason = 'missing' | 'corrupt' | 'truncated' | 'featureSpec' | 'wrongKind' | 'unavailable';

export type Adapted<T> = { ok: true; model: T } | { ok: false; reason: string };
/** Turns a decoded envelope into a kind's model view; `kind` names the adapter in cache keys. */
export interface ModelAdapter<T> {
  readonly kind: string;
  readonly adapt: (env: Envelope) => Adapted<T>;
}

export type Resolved<T> =
  | { ok: true; model: T; version: string }
  | { ok: false; reason: FallbackReason; version: string | null }
  | { ok: false; reason: 'unknownModel'; version: null };

export interface StoreOptions {
  readonly now: number;
  readonly refreshMs: number;
  readonly waitUntil: (p: Promise<unknown>) => void;
}

interface ManifestSlot {
  manifest: Manifest | null;
  /** set when the last read failed (KV unavailable), so callers can fall back */
  failed: boolean;
  fetchedAt: number;
  refreshing: Promise<void> | null;
}

const manifests = new Map<string, ManifestSlot>();
const MAX_MANIFESTS = 1024;
const models = new Map<string, { result: Resolved<unknown>; at: number }>();
const inflight = new Map<string, Promise<Resolved<unknown>>>();

/** How many model names this isolate holds a manifest entry for (bounded by MAX_MANIFESTS). */
export function cachedManifestCount(): number {
  return manifests.size;
}

/** Empties this isolate's caches (tests, and after an admin publish in this isolate). */
export function clearModelCache(name?: string): void {
  if (name === undefined) {
    manifests.clear();
    models.clear();
    return;
  }
  manifests.delete(name);
  for (const key of models.keys()) if (key.includes(`|${modelKey(name, '')}`)) models.delete(key);
}

async function readManifest(kv: KVNamespace, name: string, slot: ManifestSlot, now: number): Promise<void> {
  try {
    const text = await kv.get(manifestKey(name), 'text');
    slot.manifest = parseManifest(text);
    slot.failed = false;
  } catch (err) {
    console.error(JSON.stringify({ msg: 'manifest read failed', model: name, error: String(err) }));
    slot.failed = true;
  }
  slot.fetchedAt = now;
}

async function manifestOf(kv: KVNamespace, name: string, opts: StoreOptions): Promise<ManifestSlot> {
  let slot = manifests.get(name);
  if (slot === undefined) {
    slot = { manifest: null, failed: false, fetchedAt: 0, refreshing: null };
    // Names come from callers (unknown ones included): bounded, the oldest entry goes first.
    if (manifests.size >= MAX_MANIFESTS) manifests.delete(manifests.keys().next().value!);
    manifests.set(name, slot);
    slot.refreshing = readManifest(kv, name, slot, opts.now).finally(() => {
      slot!.refreshing = null;
    });
    opts.waitUntil(slot.refreshing); // shared: it must outlive this request (the keep-alive note above)
    await slot.refreshing;
    return slot;
  }
  if (slot.fetchedAt === 0 && slot.refreshing) {
    await slot.refreshing; // another request is doing the cold read
    return slot;
  }
  if (opts.now - slot.fetchedAt >= opts.refreshMs && slot.refreshing === null) {
    const s = slot;
    s.refreshing = readManifest(kv, name, s, opts.now).finally(() => {
      s.refreshing = null;
    });
    opts.waitUntil(s.refreshing);
  }
  return slot;
}

async function loadBlob<T>(kv: KVNamespace, name: string, version: string, adapter: ModelAdapter<T>): Promise<Resolved<T>> {
  let blob: ArrayBuffer | null;
  try {
    blob = await kv.get(modelKey(name, version), 'arrayBuffer');
  } catch (err) {
    console.error(JSON.stringify({ msg: 'model read failed', model: name, version, error: String(err) }));
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
export async function resolveModel<T>(
  kv: KVNamespace, name: string, adapter: ModelAdapter<T>, opts: StoreOptions,
): Promise<Resolved<T>> {
  const slot = await manifestOf(kv, name, opts);
  if (slot.manifest === null) {
    return slot.failed ? { ok: false, reason: 'unavailable', version: null } : { ok: false, reason: 'unknownModel', version: null };
  }
  const version = slot.manifest.active;
  const key = `${adapter.kind}|${modelKey(name, version)}`;
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
      const prefix = `${adapter.kind}|${modelKey(name, '')}`;
      for (const k of models.keys()) if (k.startsWith(prefix) && k !== key) models.delete(k);
      models.set(key, { result, at: opts.now });
      if (!result.ok) console.warn(JSON.stringify({ msg: 'model fallback', model: name, version, reason: result.reason }));
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
  const slot = manifests.get(name);
  if (slot !== undefined && slot.manifest !== null) {
    const key = `${adapter.kind}|${modelKey(name, slot.manifest.active)}`;
    if (models.has(key) || inflight.has(key)) return;
  } else if (slot !== undefined) return; // a read is under way, or the model is unknown until the next refresh
  // Kept alive past this request: it may end (a 404 on another slot) before the reads do.
  opts.waitUntil(resolveModel(kv, name, adapter, opts).catch(() => {})); // failures are reported on the real call
}
