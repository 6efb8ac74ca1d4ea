/**
 * Admin API for models: publish a blob (verified, then activated), activate a version, roll
 * back, list and inspect. Every write to a model goes through its ModelWriter (model-writer.ts),
 * so concurrent calls from anywhere each start from the manifest the one before saved.
 * Publishing here clears this isolate's cache at once; other isolates follow within
 * MODEL_REFRESH_SECONDS of KV having the new manifest in their location.
 */
import { Hono } from 'hono';
import * as z from 'zod/mini';
import { decodeEnvelope } from '../../core/model-format.ts';
import { checkModelBlob, exactBuffer, KEY_PART, ownModelName, readManifest, type RegistryFailure } from '../../core/model-registry.ts';
import { MANIFEST_PREFIX, manifestKey, modelKey } from '../../core/store-keys.ts';
import { requireAdmin } from '../shared/bearer-auth.ts';
import { readBodyBytes, readJson } from '../shared/body.ts';
import { HttpError } from '../shared/http-error.ts';
import { clearModelCache } from './model-store.ts';
import type { WriterResult } from './model-writer.ts';
import type { AppContext, AppEnv } from '../shared/types.ts';
import { log } from '../shared/log.ts';
import { kvOf } from '../shared/bindings.ts';
import { siteOfEnv } from '../sites/site-env.ts';

const MAX_MODEL_BYTES = 25 * 1024 * 1024; // KV's value limit
const LIST_LIMIT = 100;

const STATUS: Partial<Record<RegistryFailure['reason'] | 'storeUnavailable', 400 | 404 | 409 | 422 | 503>> = {
  unknownModel: 404,
  unknownVersion: 404,
  noPrevious: 409,
  versionExists: 409,
  kindChanged: 409,
  manifestUnreadable: 409,
  badName: 400,
  featureSpec: 422,
  verifyFailed: 503,
  storeUnavailable: 503,
};

const MESSAGE: Partial<Record<RegistryFailure['reason'] | 'storeUnavailable', string>> = {
  unknownModel: 'no model of that name has been published',
  unknownVersion: 'that version of the model has not been published',
  noPrevious: 'there is no earlier version to roll back to',
  versionExists: 'this version is already published with other bytes; versions are immutable, publish a new one',
  kindChanged: 'the version is of another model kind than the active one; add allowKindChange to replace it',
  manifestUnreadable: 'the stored manifest does not validate; publish or activate a version to replace it',
  featureSpec: 'the model was built for another feature extractor',
  badName:
    'model names and versions are 1–64 of a-z 0-9 . _ -, starting with a letter or digit; names starting with "exp." are experiment snapshots, written by their tests alone',
  verifyFailed: 'the blob did not read back as written; repeat the request',
  storeUnavailable: 'the model store did not answer; the change may or may not have been saved, so read the model and repeat if needed',
};

function answer(c: AppContext, r: WriterResult, field: string, badStatus: 400 | 422) {
  if (!r.ok) {
    const message = `${MESSAGE[r.reason] ?? `the model does not load: ${r.reason}`}${r.detail ? ` (${r.detail})` : ''}`;
    throw new HttpError(STATUS[r.reason] ?? badStatus, r.reason, message, field);
  }
  clearModelCache(r.name, kvOf(c.env));
  return c.json({
    name: r.name,
    version: r.version,
    active: r.manifest.active,
    unchanged: r.unchanged,
    history: r.manifest.history,
    ...(r.repairedManifest ? { repairedManifest: true } : {}),
  });
}

function writer(env: Env, name: string) {
  return env.MODEL_WRITER.get(env.MODEL_WRITER.idFromName(name));
}

/** A call to the writer that threw: it was reset (a deploy) mid-write, which may have landed. */
function unreachable(err: unknown): WriterResult {
  log.error('model writer unreachable', { error: String(err) });
  return { ok: false, reason: 'storeUnavailable', detail: 'the writer was restarted' };
}

/** The model a write names: one the registry writes (not an experiment's snapshot). */
function writableName(c: AppContext): string {
  const name = c.req.param('name')!;
  if (!ownModelName(name)) throw new HttpError(400, 'badName', MESSAGE.badName!, 'name');
  return name;
}

/** The model a read names: any manifest's, snapshots' (`exp.<key>`) included. */
function readableName(c: AppContext): string {
  const name = c.req.param('name')!;
  if (!KEY_PART.test(name)) throw new HttpError(400, 'badName', 'a model name is 1–128 characters without "/" or spaces', 'name');
  return name;
}

const flag = (v: string | undefined): boolean => v === 'true' || v === '1';

export const adminModelRoutes = new Hono<AppEnv>()
  .use('/admin/*', requireAdmin)
  .put('/admin/models', async (c) => {
    // one buffer of exactly the blob: decoded here, then copied once to the writer (RPC clones
    // the whole buffer a view lies in)
    const blob = new Uint8Array(exactBuffer(await readBodyBytes(c.req.raw, MAX_MODEL_BYTES)));
    const checked = checkModelBlob(blob.buffer as ArrayBuffer);
    if (!checked.ok) return answer(c, checked, '(body)', 400);
    const opts = { activate: c.req.query('activate') !== 'false', allowKindChange: flag(c.req.query('allowKindChange')) };
    const r = await writer(c.env, checked.envelope.name).publish(blob, opts, siteOfEnv(c.env)).catch(unreachable);
    return answer(c, r, '(body)', 400);
  })
  .post('/admin/models/:name/activate', async (c) => {
    const name = writableName(c);
    const body = await readJson(
      c.req.raw,
      z.object({
        version: z.string().check(z.minLength(1), z.maxLength(64)),
        allowKindChange: z.optional(z.boolean()),
      }),
      1024,
    );
    const r = await writer(c.env, name)
      .activate(name, body.version, body.allowKindChange ?? false, siteOfEnv(c.env))
      .catch(unreachable);
    return answer(c, r, r.ok || r.reason === 'unknownModel' ? 'name' : 'version', 422);
  })
  .post('/admin/models/:name/rollback', async (c) => {
    const name = writableName(c);
    return answer(c, await writer(c.env, name).rollback(name, siteOfEnv(c.env)).catch(unreachable), 'name', 422);
  })
  .get('/admin/models', async (c) => {
    const cursor = c.req.query('cursor');
    let list: KVNamespaceListResult<unknown>;
    try {
      list = await kvOf(c.env).list({ prefix: MANIFEST_PREFIX, limit: LIST_LIMIT, ...(cursor ? { cursor } : {}) });
    } catch (err) {
      if (!cursor) throw err;
      throw new HttpError(400, 'invalid_request', 'cursor is not one this list returned', 'cursor');
    }
    const models = await Promise.all(
      list.keys.map(async (k) => {
        const read = readManifest(await kvOf(c.env).get(k.name, 'text'));
        return read.state === 'ok' ? read.manifest : { name: k.name.slice(MANIFEST_PREFIX.length), error: 'manifestUnreadable' };
      }),
    );
    return c.json({ models, ...(list.list_complete ? {} : { cursor: list.cursor }) });
  })
  .get('/admin/models/:name', async (c) => {
    const name = readableName(c);
    const read = readManifest(await kvOf(c.env).get(manifestKey(name), 'text'));
    if (read.state === 'absent') throw new HttpError(404, 'unknownModel', `no model named "${name}"`, 'name');
    if (read.state === 'unreadable') throw new HttpError(409, 'manifestUnreadable', MESSAGE.manifestUnreadable!, 'name');
    const manifest = read.manifest;
    const blob = await kvOf(c.env).get(modelKey(name, manifest.active), 'arrayBuffer');
    const decoded = blob ? decodeEnvelope(blob) : null;
    const active = decoded?.ok
      ? {
          kind: decoded.envelope.kind,
          bytes: decoded.envelope.byteLength,
          featureSpec: decoded.envelope.featureSpecHash,
          meta: decoded.envelope.meta,
        }
      : { error: decoded ? decoded.reason : 'missing' };
    return c.json({ manifest, active });
  });
