/**
 * Models in KV, cached per isolate.
 *
 * A warm request never waits on KV: manifests are served from module scope and re-read in
 * the background (`waitUntil`) at most every MODEL_REFRESH_SECONDS; decoded models are cached
 * by their immutable key, so a manifest flip costs one KV read and one decode per isolate.
 * Concurrent cold loads of the same key share one promise. A missing, corrupt or truncated
 * blob, or one built for another feature spec, resolves to a failure the caller turns into
 * the safe fallback; failures are cached until the next refresh so a broken model costs one
 * KV read per interval, not one per request. A manifest that does not validate (a hand edit
 * gone wrong) never replaces a good one this isolate holds; with none to keep, the model's
 * slots fall back (`corrupt`), as an unknown (or deleted) name's do (`unknownModel`).
 *
 * Keep-alive: every read that other requests may wait on is handed to `waitUntil`. The runtime
 * cancels a request's unfinished I/O when the request ends (its response sent, or the client
 * gone), and a shared read cancelled that way would never settle: every later request for the
 * model would wait on it forever.
 */

import { decodeEnvelope, type Envelope, type ModelKind } from '../../core/model-format.ts';
import { checkFeatureSpec, readManifest, type Manifest } from '../../core/model-registry.ts';
import { manifestKey, modelKey } from '../../core/store-keys.ts';

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

export interface StoreOptions {
  readonly now: number;
  readonly refreshMs: number;
  readonly waitUntil: (p: Promise<unknown>) => void;
}

interface ManifestSlot {
  manifest: Manifest | null;
  /** set when the last read failed (KV unavailable), so callers can fall back */
  failed: boolean;
  /** set when the stored manifest does not validate and no good one was seen before it */
  unreadable: boolean;
  fetchedAt: number;
  refreshing: Promise<void> | null;
}

/** Why a name has no manifest here: KV has none, or its first read failed (KV unavailable). */
type Miss = 'unknownModel' | 'unavailable';

/**
 * Manifests by model name. Names come from callers, unknown ones included, so a name waits in
 * `pending` while its first read is under way and then goes to `manifests` only if KV has a
 * manifest for it (readable or not), else to `missing` (until the next refresh interval): made-up
 * names, however many at once and whether or not KV answers, only ever evict other misses,
 * never a model the site uses. Both maps are bounded, oldest entry first out; `pending` holds
 * only reads in flight.
 */
const manifests = new Map<string, ManifestSlot>();
const pending = new Map<string, ManifestSlot>();
const missing = new Map<string, { at: number; why: Miss }>();
const MAX_MANIFESTS = 1024;
const models = new Map<string, { result: Resolved<unknown>; at: number }>();
const inflight = new Map<string, Promise<Resolved<unknown>>>();

/** How many model names this isolate holds a manifest entry for (bounded by MAX_MANIFESTS each). */
export function cachedManifestCount(): { known: number; missing: number } {
  return { known: manifests.size, missing: missing.size };
}

/** Empties this isolate's caches (tests, and after an admin publish in this isolate). */
export function clearModelCache(name?: string): void {
  if (name === undefined) {
    manifests.clear();
    pending.clear();
    missing.clear();
    models.clear();
    return;
  }
  manifests.delete(name);
  pending.delete(name);
  missing.delete(name);
  for (const key of models.keys()) if (key.includes(`|${modelKey(name, '')}`)) models.delete(key);
}

function setBounded<V>(map: Map<string, V>, key: string, value: V): void {
  if (!map.has(key) && map.size >= MAX_MANIFESTS) map.delete(map.keys().next().value!);
  map.set(key, value);
}

async function readManifestInto(kv: KVNamespace, name: string, slot: ManifestSlot, now: number): Promise<void> {
  try {
    const read = readManifest(await kv.get(manifestKey(name), 'text'));
    slot.failed = false;
    if (read.state === 'unreadable') {
      // a hand edit gone wrong: keep serving the last good manifest rather than nothing
      console.error(JSON.stringify({ msg: 'manifest unreadable', model: name, keeping: slot.manifest?.active ?? null }));
      slot.unreadable = slot.manifest === null;
    } else {
      slot.manifest = read.state === 'ok' ? read.manifest : null;
      slot.unreadable = false;
    }
  } catch (err) {
    console.error(JSON.stringify({ msg: 'manifest read failed', model: name, error: String(err) }));
    slot.failed = true;
  }
  slot.fetchedAt = now;
  const cold = pending.get(name) === slot;
  if (cold) pending.delete(name);
  const miss = missOf(slot);
  if (miss !== null) {
    if (cold || manifests.get(name) === slot) {
      manifests.delete(name); // deleted from KV since the last read, or never read
      setBounded(missing, name, { at: now, why: miss });
    }
  } else if (cold) {
    setBounded(manifests, name, slot);
  }
}

/** Why `slot` has no manifest to serve or to fall back from, or null when it has one (or an unreadable one). */
function missOf(slot: ManifestSlot): Miss | null {
  if (slot.manifest !== null || slot.unreadable) return null;
  return slot.failed ? 'unavailable' : 'unknownModel';
}

function startRead(kv: KVNamespace, name: string, slot: ManifestSlot, opts: StoreOptions): Promise<void> {
  slot.refreshing = readManifestInto(kv, name, slot, opts.now).finally(() => {
    slot.refreshing = null;
  });
  opts.waitUntil(slot.refreshing); // shared: it must outlive this request (the keep-alive note above)
  return slot.refreshing;
}

/** The manifest slot of `name`, or why there is none (as of its last read). */
async function manifestOf(kv: KVNamespace, name: string, opts: StoreOptions): Promise<ManifestSlot | Miss> {
  let slot = manifests.get(name);
  if (slot === undefined) {
    slot = pending.get(name);
    if (slot !== undefined) {
      await slot.refreshing; // another request is doing the cold read
      return missOf(slot) ?? slot;
    }
    const missed = missing.get(name);
    if (missed !== undefined && opts.now - missed.at < opts.refreshMs) return missed.why;
    missing.delete(name);
    slot = { manifest: null, failed: false, unreadable: false, fetchedAt: 0, refreshing: null };
    pending.set(name, slot);
    await startRead(kv, name, slot, opts);
    return missOf(slot) ?? slot;
  }
  if (opts.now - slot.fetchedAt >= opts.refreshMs && slot.refreshing === null) void startRead(kv, name, slot, opts);
  return missOf(slot) ?? slot;
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
export async function resolveModel<T>(kv: KVNamespace, name: string, adapter: ModelAdapter<T>, opts: StoreOptions): Promise<Resolved<T>> {
  const slot = await manifestOf(kv, name, opts);
  if (slot === 'unknownModel') return { ok: false, reason: 'unknownModel', version: null };
  if (slot === 'unavailable' || slot.manifest === null)
    return { ok: false, reason: slot === 'unavailable' ? slot : 'corrupt', version: null };
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
  } else if (slot !== undefined || pending.has(name) || missing.has(name)) return; // a read is under way, or the model is missing until the next refresh
  // Kept alive past this request: it may end (a strict call's 404 on another slot) before the reads do.
  opts.waitUntil(resolveModel(kv, name, adapter, opts).catch(() => {})); // failures are reported on the real call
}
