/**
 * Publishing, activating and rolling back models over any key-value store.
 *
 * Keys (store-keys.ts, documented in docs/model-format.md):
 *   model/<name>/<version>   the envelope blob; immutable once written
 *   manifest/<name>          JSON `Manifest`: the active version and the activation history
 *
 * A publish writes the blob, reads it back and decodes it (so what readers will see is
 * verified, not what we meant to write), and only then flips the manifest. KV writes of one
 * key are atomic, so a reader sees either the old manifest or the new one, never a mix. There
 * is one manifest per model, so publishing one model never races with publishing another;
 * writes to the same model are serialized by the caller (the Worker's ModelWriter object).
 *
 * Every version that becomes active passes the same checks, whichever way it gets there
 * (publish, activate, rollback): it decodes, it was built for this extractor's features, its
 * kind's loader takes it, and it is of the kind the model has been so far.
 *
 * The store is three functions (hono's adapter style): the worker passes its KV binding, the
 * Node CLI passes wrangler's local KV or the Cloudflare API.
 */

import { FEATURE_SPEC_HASH } from './features.ts';
import { usableModel } from './model-check.ts';
import { decodeEnvelope, MODEL_KIND, type DecodeFailure, type Envelope, type ModelKind } from './model-format.ts';
import { manifestKey, modelKey } from './store-keys.ts';

export interface ModelStorage {
  getBytes(key: string): Promise<ArrayBuffer | null>;
  getText(key: string): Promise<string | null>;
  put(key: string, value: Uint8Array | string): Promise<void>;
}

export interface ManifestEntry {
  readonly version: string;
  /** ms since epoch */
  readonly at: number;
  /** set when a rollback made this version active again (rollbacks walk back, not toggle) */
  readonly rollback?: true;
}

export interface Manifest {
  readonly name: string;
  readonly kind: ModelKind;
  readonly active: string;
  /** activations, oldest first, the last one is `active` */
  readonly history: readonly ManifestEntry[];
}

/** A manifest as stored: none, one that does not validate (edited by hand), or a good one. */
export type ManifestRead =
  | { readonly state: 'absent' }
  | { readonly state: 'unreadable' }
  | { readonly state: 'ok'; readonly manifest: Manifest };

/** Model kinds whose scores do not read the visitor features (feature-spec hash 0 allowed). */
const FEATURE_FREE: ReadonlySet<ModelKind> = new Set(['bandit', 'itemknn', 'shading']);
const HISTORY_LIMIT = 50;
/** How many earlier versions a rollback tries before it gives up (each costs a KV read). */
const ROLLBACK_TRIES = 10;
export const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/**
 * Models named `exp.<key>` are bandit tests' live snapshots, written by their aggregators alone
 * (they bypass this registry and may be longer than MODEL_NAME allows); a publish, activation
 * or rollback under such a name would fight the aggregator, so the registry refuses it.
 */
export const SNAPSHOT_PREFIX = 'exp.';
/** Whether the registry writes models of this name (not a snapshot's, and a valid key part). */
export const ownModelName = (name: string): boolean => MODEL_NAME.test(name) && !name.startsWith(SNAPSHOT_PREFIX);
/** Manifest fields are checked for shape, not naming rules: snapshots' names are longer. */
export const KEY_PART = /^[^/\s]{1,128}$/;

export type SpecCheck = { ok: true } | { ok: false; reason: 'featureSpec' };

/** A model built for other features than this extractor's must not be scored. */
export function checkFeatureSpec(env: Envelope): SpecCheck {
  if (env.featureSpecHash === FEATURE_SPEC_HASH) return { ok: true };
  if (env.featureSpecHash === 0 && FEATURE_FREE.has(env.kind)) return { ok: true };
  return { ok: false, reason: 'featureSpec' };
}

function isEntry(e: unknown): e is ManifestEntry {
  const x = e as ManifestEntry | null;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.version === 'string' &&
    KEY_PART.test(x.version) &&
    typeof x.at === 'number' &&
    Number.isFinite(x.at) &&
    (x.rollback === undefined || x.rollback === true)
  );
}

/** Reads a stored manifest; anything that is not one we could have written is `unreadable`. */
export function readManifest(text: string | null): ManifestRead {
  if (text === null) return { state: 'absent' };
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch {
    return { state: 'unreadable' };
  }
  const ok =
    typeof m === 'object' &&
    m !== null &&
    typeof m.name === 'string' &&
    KEY_PART.test(m.name) &&
    Object.hasOwn(MODEL_KIND, m.kind as string) &&
    typeof m.active === 'string' &&
    KEY_PART.test(m.active) &&
    Array.isArray(m.history) &&
    m.history.every(isEntry);
  return ok ? { state: 'ok', manifest: m } : { state: 'unreadable' };
}

/** The manifest, or null when there is none or it does not validate. */
export function parseManifest(text: string | null): Manifest | null {
  const r = readManifest(text);
  return r.state === 'ok' ? r.manifest : null;
}

export type RegistryFailure = {
  readonly ok: false;
  readonly reason:
    | DecodeFailure
    | 'featureSpec'
    | 'badName'
    | 'versionExists'
    | 'verifyFailed'
    | 'kindChanged'
    | 'unknownModel'
    | 'unknownVersion'
    | 'noPrevious'
    | 'manifestUnreadable';
  /** which version, and why, where the reason alone does not say */
  readonly detail?: string;
};

export type PublishResult =
  | {
      ok: true;
      name: string;
      version: string;
      manifest: Manifest;
      unchanged: boolean;
      /** the stored manifest did not validate and was replaced; its history is lost */
      repairedManifest?: true;
    }
  | RegistryFailure;

export type BlobCheck = { ok: true; envelope: Envelope } | RegistryFailure;

/**
 * The checks a blob must pass before it is written anywhere: it decodes, it was built for
 * this extractor, its kind's loader takes it, and its name and version are valid key parts.
 * `blob` must be exactly the model (decode reads its whole buffer).
 */
export function checkModelBlob(blob: ArrayBuffer): BlobCheck {
  const decoded = decodeEnvelope(blob);
  if (!decoded.ok) return decoded;
  const env = decoded.envelope;
  const spec = checkFeatureSpec(env);
  if (!spec.ok) return spec;
  if (!usableModel(env)) return { ok: false, reason: 'malformed' };
  if (!MODEL_NAME.test(env.version)) return { ok: false, reason: 'badName', detail: env.version };
  if (!ownModelName(env.name)) return { ok: false, reason: 'badName', detail: env.name };
  return { ok: true, envelope: env };
}

/**
 * The bytes of `view` as an ArrayBuffer of exactly their length (what decoding needs): its own
 * buffer when it covers all of it, else a copy. Blobs go up to 25 MiB, and a Worker has 128.
 */
export function exactBuffer(view: Uint8Array): ArrayBuffer {
  const whole = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer;
  return whole ? (view.buffer as ArrayBuffer) : view.slice().buffer;
}

function sameBytes(a: Uint8Array, b: ArrayBuffer): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const bb = new Uint8Array(b);
  for (let i = 0; i < a.length; i++) if (a[i] !== bb[i]) return false;
  return true;
}

export type PublishCheck = { ok: true; envelope: Envelope; stored: boolean; current: ManifestRead } | RegistryFailure;

/**
 * What a publish of `blob` would do to the store, without writing: refused (a check fails, the
 * version exists with other bytes, or it would change the model's kind), or fine. The CLI runs
 * it for every file before it writes any, so one bad file publishes nothing.
 */
export async function checkPublish(
  storage: ModelStorage,
  blob: Uint8Array,
  opts: Pick<PublishOptions, 'allowKindChange' | 'activate'> = {},
): Promise<PublishCheck> {
  const checked = checkModelBlob(exactBuffer(blob));
  if (!checked.ok) return checked;
  const env = checked.envelope;
  const existing = await storage.getBytes(modelKey(env.name, env.version));
  if (existing !== null && !sameBytes(blob, existing)) return { ok: false, reason: 'versionExists', detail: env.version };
  const current = readManifest(await storage.getText(manifestKey(env.name)));
  // a version staged without activating changes nothing yet: its activation is checked instead
  const refused = opts.activate === false ? null : kindChanged(current, env.kind, opts.allowKindChange);
  if (refused) return refused;
  return { ok: true, envelope: env, stored: existing !== null, current };
}

async function flip(
  storage: ModelStorage,
  prev: ManifestRead,
  name: string,
  kind: ModelKind,
  entry: ManifestEntry,
): Promise<{ ok: true; name: string; version: string; manifest: Manifest; unchanged: false; repairedManifest?: true }> {
  const earlier = prev.state === 'ok' ? prev.manifest.history : [];
  const manifest: Manifest = { name, kind, active: entry.version, history: [...earlier, entry].slice(-HISTORY_LIMIT) };
  await storage.put(manifestKey(name), JSON.stringify(manifest));
  const result = { ok: true as const, name, version: entry.version, manifest, unchanged: false as const };
  return prev.state === 'unreadable' ? { ...result, repairedManifest: true as const } : result;
}

function kindChanged(prev: ManifestRead, kind: ModelKind, allow: boolean | undefined): RegistryFailure | null {
  if (allow || prev.state !== 'ok' || prev.manifest.kind === kind) return null;
  return { ok: false, reason: 'kindChanged', detail: `the model is ${prev.manifest.kind}; this version is ${kind}` };
}

export interface PublishOptions {
  /** false: write and verify the blob but leave the active version as it is */
  readonly activate?: boolean;
  /** allow a version of another kind than the active one (callers would get another model type) */
  readonly allowKindChange?: boolean;
  readonly now?: number;
}

/** Verifies, writes (once) and, unless `activate` is false, activates a model blob. */
export async function publishModel(storage: ModelStorage, blob: Uint8Array, opts: PublishOptions = {}): Promise<PublishResult> {
  const checked = await checkPublish(storage, blob, opts);
  if (!checked.ok) return checked;
  const { envelope: env, current } = checked;
  const key = modelKey(env.name, env.version);
  if (!checked.stored) {
    await storage.put(key, blob);
    const back = await storage.getBytes(key);
    if (back === null || !sameBytes(blob, back) || !decodeEnvelope(back).ok) return { ok: false, reason: 'verifyFailed' };
  }
  const active = current.state === 'ok' && current.manifest.active === env.version;
  if (opts.activate === false || active) {
    const manifest = current.state === 'ok' ? current.manifest : { name: env.name, kind: env.kind, active: '', history: [] };
    return { ok: true, name: env.name, version: env.version, manifest, unchanged: active };
  }
  return flip(storage, current, env.name, env.kind, { version: env.version, at: opts.now ?? Date.now() });
}

/** Why a published version cannot be activated, or its envelope. */
async function activatable(storage: ModelStorage, name: string, version: string): Promise<BlobCheck> {
  if (!MODEL_NAME.test(version)) return { ok: false, reason: 'unknownVersion', detail: version };
  const bytes = await storage.getBytes(modelKey(name, version));
  if (bytes === null) return { ok: false, reason: 'unknownVersion', detail: version };
  const checked = checkModelBlob(bytes);
  return checked.ok ? checked : { ...checked, detail: version };
}

/** Points the manifest at an already published version. */
export async function activateModel(
  storage: ModelStorage,
  name: string,
  version: string,
  opts: Omit<PublishOptions, 'activate'> = {},
): Promise<PublishResult> {
  if (!ownModelName(name)) return { ok: false, reason: 'badName', detail: name };
  const current = readManifest(await storage.getText(manifestKey(name)));
  const checked = await activatable(storage, name, version);
  if (!checked.ok)
    return checked.reason === 'unknownVersion' && current.state === 'absent' ? { ok: false, reason: 'unknownModel' } : checked;
  if (current.state === 'ok' && current.manifest.active === version) {
    return { ok: true, name, version, manifest: current.manifest, unchanged: true };
  }
  const refused = kindChanged(current, checked.envelope.kind, opts.allowKindChange);
  if (refused) return refused;
  return flip(storage, current, name, checked.envelope.kind, { version, at: opts.now ?? Date.now() });
}

/**
 * The versions a rollback would walk back to, nearest first. History is replayed as a stack:
 * an activation pushes its version, a rollback pops back to the version it restored. So after
 * v1 → v2 → v3 and a rollback to v2, the next rollback goes to v1, not back to v3. `active` is
 * the manifest's own: should a hand edit have set it to another version than the history's
 * last, that last version is the one to go back to. (Histories written before rollbacks were
 * marked hold no marks, so their first rollback still returns to the version rolled back from.)
 */
export function rollbackTargets(history: readonly ManifestEntry[], active: string): string[] {
  const stack: string[] = [];
  for (const e of history) {
    if (e.rollback) {
      while (stack.length > 0 && stack[stack.length - 1] !== e.version) stack.pop();
      if (stack.length === 0) stack.push(e.version); // history trimmed past where it started
    } else if (stack[stack.length - 1] !== e.version) {
      stack.push(e.version);
    }
  }
  if (stack[stack.length - 1] === active) stack.pop();
  const out: string[] = [];
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i] !== active && !out.includes(stack[i]!)) out.push(stack[i]!);
  return out;
}

/**
 * Re-activates the version that was active before the current one, walking further back past
 * versions whose blob is gone or would no longer load (each is named in the refusal). It may
 * cross a change of kind: undoing one is what a rollback is for.
 */
export async function rollbackModel(storage: ModelStorage, name: string, now = Date.now()): Promise<PublishResult> {
  if (!ownModelName(name)) return { ok: false, reason: 'badName', detail: name };
  const current = readManifest(await storage.getText(manifestKey(name)));
  if (current.state === 'absent') return { ok: false, reason: 'unknownModel' };
  if (current.state === 'unreadable') return { ok: false, reason: 'manifestUnreadable' };
  const skipped: string[] = [];
  for (const version of rollbackTargets(current.manifest.history, current.manifest.active).slice(0, ROLLBACK_TRIES)) {
    const checked = await activatable(storage, name, version);
    if (!checked.ok) {
      skipped.push(`${version} (${checked.reason === 'unknownVersion' ? 'missing' : checked.reason})`);
      continue;
    }
    return flip(storage, current, name, checked.envelope.kind, { version, at: now, rollback: true });
  }
  return { ok: false, reason: 'noPrevious', ...(skipped.length > 0 ? { detail: `skipped ${skipped.join(', ')}` } : {}) };
}
