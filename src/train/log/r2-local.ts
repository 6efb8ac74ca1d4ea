/**
 * The R2 bucket `LOG` as `wrangler dev` keeps it locally (`.wrangler/state`, or the `--persist`
 * folder), copied under a temp folder with the same keys, for DuckDB to read as files. Local
 * buckets are development-sized; the production bucket is read through DuckDB's `httpfs` or a
 * synced folder (docs/log-schema.md).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LOG_PREFIX } from '../../core/log-layout.ts';
import { platformPersist } from '../storage.ts';

interface R2Like {
  list(opts: { prefix: string; cursor?: string }): Promise<{ objects: { key: string }[]; truncated: boolean; cursor?: string }>;
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

/** Keys are written below the temp folder: refuse any that would climb out of it. */
const SAFE_KEY = /^(?!.*(?:^|\/)\.\.?(?:\/|$))[\w=.\-/]+$/;

export async function localR2Copy(persistTo?: string): Promise<{ dir: string; close: () => Promise<void> }> {
  const { getPlatformProxy } = await import('wrangler');
  const proxy = await getPlatformProxy<{ LOG: R2Like }>({ persist: platformPersist(persistTo) });
  const dir = await mkdtemp(join(tmpdir(), 'attune-r2-'));
  try {
    const bucket = proxy.env.LOG;
    let cursor: string | undefined;
    do {
      const page = await bucket.list({ prefix: LOG_PREFIX, ...(cursor ? { cursor } : {}) });
      for (const o of page.objects) {
        if (!SAFE_KEY.test(o.key)) continue;
        const obj = await bucket.get(o.key);
        if (!obj) continue;
        const path = join(dir, o.key);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, new Uint8Array(await obj.arrayBuffer()));
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  } finally {
    await proxy.dispose();
  }
  return { dir, close: () => rm(dir, { recursive: true, force: true }) };
}
