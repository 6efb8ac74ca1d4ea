/**
 * `npm run models:publish [-- --remote] [--dir models] [--only name]`
 *
 * Compiles every model source in the directory, publishes each through the atomic path
 * (write, read back, verify, flip the manifest), and writes configs (`segments.json` →
 * `config/segments`). Locally it writes the KV state `wrangler dev` serves; with `--remote`
 * it writes the real namespace bound as MODELS in wrangler.toml. Compiled blobs are also
 * written to `models/compiled/` for inspection.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { publishModel } from '../core/model-registry.ts';
import { compileSources } from './model-source.ts';
import { localStorage, remoteStorage, type OpenStorage } from './storage.ts';

/** Files in `models/` that are configs rather than models, and the KV key each goes to. */
export const CONFIG_FILES: Readonly<Record<string, string>> = { 'segments.json': 'config/segments' };

export async function publishDirectory(dir: string, store: OpenStorage, only?: string, log = console.log): Promise<number> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  await mkdir(join(dir, 'compiled'), { recursive: true });
  let failures = 0;
  for (const file of files) {
    const raw = JSON.parse(await readFile(join(dir, file), 'utf8'));
    const configKey = CONFIG_FILES[file];
    if (configKey) {
      if (!only) {
        await store.putJson(configKey, raw);
        log(`config  ${configKey} ← ${file}`);
      }
      continue;
    }
    for (const compiled of compileSources(raw, file)) {
      if (only && compiled.name !== only) continue;
      await writeFile(join(dir, 'compiled', `${compiled.name}@${compiled.version}.bin`), compiled.blob);
      const r = await publishModel(store.storage, compiled.blob);
      if (!r.ok) {
        failures++;
        log(`FAILED  ${compiled.name}@${compiled.version}: ${r.reason}`);
      } else {
        log(`${r.unchanged ? 'same   ' : 'active '} ${r.name}@${r.version} (${compiled.blob.byteLength} bytes)`);
      }
    }
  }
  return failures;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      remote: { type: 'boolean', default: false },
      dir: { type: 'string', default: 'models' },
      only: { type: 'string' },
      persist: { type: 'string' },
    },
  });
  const store = values.remote ? remoteStorage() : await localStorage(values.persist);
  try {
    const failures = await publishDirectory(values.dir!, store, values.only);
    process.exitCode = failures > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
