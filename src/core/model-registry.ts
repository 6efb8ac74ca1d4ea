/**
 * Publishing, activating and rolling back models over any key-value store.
 *
 * Keys (documented in docs/model-format.md):
 *   model/<name>/<version>   the envelope blob; immutable once written
 *   manifest/<name>          JSON `Manifest`: the active version and the activation history
 *
 * A publish writes the blob, reads it back and decodes it (so what readers will see is
 * verified, not what we meant to write), and only then flips the manifest. KV writes of one
 * key are atomic, so a reader sees either the old manifest or the new one, never a mix. There
 * is one manifest per model, so publishing one model never races with publishing another.
 *
 * The store is three functions (hono's adapter style): the worker passes its KV binding, the
 * Node CLI passes wrangler's local KV or the Cloudflare API.
 */

import { FEATURE_SPEC_HASH } from './features.ts';
import { usableModel } from './model-check.ts';
import { decodeEnvelope, type DecodeFailure, type Envelope, type ModelKind } from './model-format.ts';

export interface ModelStorage {
  getBytes(key: string): Promise<ArrayBuffer | null>;
  getText(key: string): Promise<string | null>;
  put(key: string, value: Uint8Array | string): Promise<void>;
}

export interface ManifestEntry {
  readonly version: string;
  /** ms since epoch */
  readonly at: number;
}

export interface Manifest {
  readonly name: string;
  readonly kind: ModelKind;
  readonly active: string;
  /** activations, oldest first, the last one is `active` */
  readonly history: readonly ManifestEntry[];
}

/** Model kinds whose scores do not read the visitor features (feature-spec hash 0 allowed). */
const FEATURE_FREE: ReadonlySet<ModelKind> = new Set(['bandit', 'itemknn', 'shading']);
const HISTORY_LIMIT = 50;
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const modelKey = (name: string, version: string): string => `model/${name}/${version}`;
export const manifestKey = (name: string): string => `manifest/${name}`;

export type SpecCheck = { ok: true } | { ok: false; reason: 'featureSpec' };

/** A model built for other features than this extractor's must not be scored. */
export function checkFeatureSpec(env: Envelope): SpecCheck {
  if (env.featureSpecHash === FEATURE_SPEC_HASH) return { ok: true };
  if (env.featureSpecHash === 0 && FEATURE_FREE.has(env.kind)) return { ok: true };
  return { ok: false, reason: 'featureSpec' };
}

export function parseManifest(text: string | null): Manifest | null {
  if (text === null) return null;
  try {
    const m = JSON.parse(text) as Manifest;
    if (typeof m?.name === 'string' && typeof m.active === 'string' && Array.isArray(m.history)) return m;
  } catch {
    // fall through: a manifest we cannot read is treated as absent by callers that must not fail
  }
  return null;
}

export type RegistryFailure =
  | { ok: false; reason: DecodeFailure | 'featureSpec' | 'badName' | 'versionExists' | 'verifyFailed' }
  | { ok: false; reason: 'unknownModel' | 'unknownVersion' | 'noPrevious' };

export type PublishResult = { ok: true; name: string; version: string; manifest: Manifest; unchanged: boolean } | RegistryFailure;

function sameBytes(a: Uint8Array, b: ArrayBuffer): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const bb = new Uint8Array(b);
  for (let i = 0; i < a.length; i++) if (a[i] !== bb[i]) return false;
  return true;
}

async function flip(storage: ModelStorage, name: string, kind: ModelKind, version: string, now: number): Promise<Manifest> {
  const prev = parseManifest(await storage.getText(manifestKey(name)));
  const history = [...(prev?.history ?? []), { version, at: now }].slice(-HISTORY_LIMIT);
  const manifest: Manifest = { name, kind, active: version, history };
  await storage.put(manifestKey(name), JSON.stringify(manifest));
  return manifest;
}

/** Verifies, writes (once) and, unless `activate` is false, activates a model blob. */
export async function publishModel(
  storage: ModelStorage, blob: Uint8Array, opts: { activate?: boolean; now?: number } = {},
): Promise<PublishResult> {
  const copy = blob.slice(); // decode needs an ArrayBuffer of exactly the blob
  const decoded = decodeEnvelope(copy.buffer);
  if (!decoded.ok) return decoded;
  const env = decoded.envelope;
  const spec = checkFeatureSpec(env);
  if (!spec.ok) return spec;
  if (!usableModel(env)) return { ok: false, reason: 'malformed' };
  if (!NAME.test(env.name) || !NAME.test(env.version)) return { ok: false, reason: 'badName' };
  const key = modelKey(env.name, env.version);
  const existing = await storage.getBytes(key);
  if (existing !== null && !sameBytes(blob, existing)) return { ok: false, reason: 'versionExists' };
  if (existing === null) {
    await storage.put(key, blob);
    const back = await storage.getBytes(key);
    if (back === null || !sameBytes(blob, back) || !decodeEnvelope(back).ok) return { ok: false, reason: 'verifyFailed' };
  }
  const current = parseManifest(await storage.getText(manifestKey(env.name)));
  if (opts.activate === false || current?.active === env.version) {
    const manifest = current ?? { name: env.name, kind: env.kind, active: '', history: [] };
    return { ok: true, name: env.name, version: env.version, manifest, unchanged: current?.active === env.version };
  }
  const manifest = await flip(storage, env.name, env.kind, env.version, opts.now ?? Date.now());
  return { ok: true, name: env.name, version: env.version, manifest, unchanged: false };
}

/** Points the manifest at an already published version. */
export async function activateModel(
  storage: ModelStorage, name: string, version: string, now = Date.now(),
): Promise<PublishResult> {
  const current = parseManifest(await storage.getText(manifestKey(name)));
  const bytes = await storage.getBytes(modelKey(name, version));
  if (bytes === null) return { ok: false, reason: current ? 'unknownVersion' : 'unknownModel' };
  const decoded = decodeEnvelope(bytes);
  if (!decoded.ok) return decoded;
  if (current?.active === version) return { ok: true, name, version, manifest: current, unchanged: true };
  const manifest = await flip(storage, name, decoded.envelope.kind, version, now);
  return { ok: true, name, version, manifest, unchanged: false };
}

/** Re-activates the version that was active before the current one. */
export async function rollbackModel(storage: ModelStorage, name: string, now = Date.now()): Promise<PublishResult> {
  const current = parseManifest(await storage.getText(manifestKey(name)));
  if (current === null) return { ok: false, reason: 'unknownModel' };
  const earlier = [...current.history].reverse().find((h) => h.version !== current.active);
  if (!earlier) return { ok: false, reason: 'noPrevious' };
  return activateModel(storage, name, earlier.version, now);
}
