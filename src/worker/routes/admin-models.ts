/**
 * Admin API for models: publish a blob (verified, then activated), activate a version, roll
 * back, list and inspect. Publishing here clears this isolate's cache at once; other isolates
 * follow within MODEL_REFRESH_SECONDS.
 */
import { Hono } from 'hono';
import * as z from 'zod/mini';
import { decodeEnvelope } from '../../core/model-format.ts';
import { activateModel, manifestKey, modelKey, parseManifest, publishModel, rollbackModel, type PublishResult } from '../../core/model-registry.ts';
import { requireAdmin } from '../admin-auth.ts';
import { readJson } from '../body.ts';
import { HttpError } from '../http-error.ts';
import { kvStorage } from '../kv-storage.ts';
import { clearModelCache } from '../model-store.ts';
import type { AppContext, AppEnv } from '../types.ts';

const MAX_MODEL_BYTES = 25 * 1024 * 1024; // KV's value limit
const STATUS: Record<string, 400 | 404 | 409 | 422> = {
  unknownModel: 404, unknownVersion: 404, noPrevious: 409, versionExists: 409, featureSpec: 422,
};

function answer(c: AppContext, r: PublishResult) {
  if (!r.ok) {
    throw new HttpError(STATUS[r.reason] ?? 400, r.reason, `model operation refused: ${r.reason}`);
  }
  clearModelCache(r.name);
  return c.json({ name: r.name, version: r.version, active: r.manifest.active, unchanged: r.unchanged, history: r.manifest.history });
}

export const adminModelRoutes = new Hono<AppEnv>()
  .use('/admin/*', requireAdmin)
  .put('/admin/models', async (c) => {
    const declared = Number(c.req.header('content-length') ?? NaN);
    if (declared > MAX_MODEL_BYTES) throw new HttpError(413, 'body_too_large', 'model blobs are limited to 25 MiB');
    const blob = new Uint8Array(await c.req.arrayBuffer());
    if (blob.byteLength > MAX_MODEL_BYTES) throw new HttpError(413, 'body_too_large', 'model blobs are limited to 25 MiB');
    const activate = c.req.query('activate') !== 'false';
    return answer(c, await publishModel(kvStorage(c.env.MODELS), blob, { activate }));
  })
  .post('/admin/models/:name/activate', async (c) => {
    const { version } = await readJson(c.req.raw, z.object({ version: z.string().check(z.minLength(1), z.maxLength(64)) }), 1024);
    return answer(c, await activateModel(kvStorage(c.env.MODELS), c.req.param('name'), version));
  })
  .post('/admin/models/:name/rollback', async (c) => answer(c, await rollbackModel(kvStorage(c.env.MODELS), c.req.param('name'))))
  .get('/admin/models', async (c) => {
    const list = await c.env.MODELS.list({ prefix: 'manifest/' });
    const manifests = await Promise.all(list.keys.map(async (k) => parseManifest(await c.env.MODELS.get(k.name, 'text'))));
    return c.json({ models: manifests.filter((m) => m !== null) });
  })
  .get('/admin/models/:name', async (c) => {
    const name = c.req.param('name');
    const manifest = parseManifest(await c.env.MODELS.get(manifestKey(name), 'text'));
    if (!manifest) throw new HttpError(404, 'unknownModel', `no model named "${name}"`);
    const blob = await c.env.MODELS.get(modelKey(name, manifest.active), 'arrayBuffer');
    const decoded = blob ? decodeEnvelope(blob) : null;
    const active = decoded?.ok
      ? { kind: decoded.envelope.kind, bytes: decoded.envelope.byteLength, featureSpec: decoded.envelope.featureSpecHash, meta: decoded.envelope.meta }
      : { error: decoded ? decoded.reason : 'missing' };
    return c.json({ manifest, active });
  });
