/**
 * `npm run models:publish [-- --remote] [--dir models] [--only name] [--allow-kind-change]` (`--help`)
 *
 * Compiles every model source in the directory, publishes each through the atomic path
 * (write, read back, verify, flip the manifest), and writes configs (`segments.json` →
 * `config/segments`). Locally it writes the KV state `wrangler dev` serves; with `--remote`
 * it writes the real namespace bound as KV in wrangler.toml. Compiled blobs are also
 * written to `models/compiled/` for inspection.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkPublish, publishModel } from '../core/model-registry.ts';
import { compileSegments, type SegmentConfig } from '../core/segments.ts';
import { CONFIG_KEYS } from '../core/store-keys.ts';
import { cliMain, type CliSpec } from './cli.ts';
import { compileSources } from './model-source.ts';
import { localStorage, remoteStorage, type OpenStorage } from './storage.ts';

/** Files in `models/` that are configs rather than models, and the KV key each goes to. */
export const CONFIG_FILES: Readonly<Record<string, string>> = { 'segments.json': CONFIG_KEYS.segments };

/** Checks a config file before anything is written: the Worker would refuse one that fails. */
const CONFIG_CHECKS: Readonly<Record<string, (raw: unknown) => void>> = {
  'segments.json': (raw) => void compileSegments(raw as SegmentConfig),
};

/**
 * Compiles and checks every file first, and writes only when all of them are good: a bad file
 * fails the whole run with `file: message`, and nothing is half published. The checks are the
 * publish path's own, store included (a version that exists with other bytes, a change of a
 * model's kind), so a run that passes them fails only if the store itself does.
 */
export async function publishDirectory(
  dir: string,
  store: OpenStorage,
  only?: string,
  log = console.log,
  opts: { allowKindChange?: boolean } = {},
): Promise<number> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const configs: [key: string, file: string, raw: unknown][] = [];
  const models: ReturnType<typeof compileSources> = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      const raw = JSON.parse(await readFile(join(dir, file), 'utf8'));
      const configKey = CONFIG_FILES[file];
      if (configKey) {
        CONFIG_CHECKS[file]?.(raw);
        if (!only) configs.push([configKey, file, raw]);
        continue;
      }
      for (const compiled of compileSources(raw, file)) if (!only || compiled.name === only) models.push(compiled);
    } catch (err) {
      problems.push(`${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  for (const compiled of models) {
    const checked = await checkPublish(store.storage, compiled.blob, opts);
    if (!checked.ok)
      problems.push(`${compiled.name}@${compiled.version}: ${checked.reason}${checked.detail ? ` (${checked.detail})` : ''}`);
  }
  if (problems.length > 0) {
    for (const p of problems) log(`FAILED  ${p}`);
    log('nothing published');
    return problems.length;
  }
  await mkdir(join(dir, 'compiled'), { recursive: true });
  let failures = 0;
  for (const [key, file, raw] of configs) {
    await store.putJson(key, raw);
    log(`config  ${key} ← ${file}`);
  }
  for (const compiled of models) {
    await writeFile(join(dir, 'compiled', `${compiled.name}@${compiled.version}.bin`), compiled.blob);
    const r = await publishModel(store.storage, compiled.blob, opts);
    if (!r.ok) {
      failures++;
      log(`FAILED  ${compiled.name}@${compiled.version}: ${r.reason}`);
    } else {
      log(`${r.unchanged ? 'same   ' : 'active '} ${r.name}@${r.version} (${compiled.blob.byteLength} bytes)`);
    }
  }
  return failures;
}

export const SPEC = {
  name: 'models:publish',
  usage: 'npm run models:publish [-- --remote] [--dir DIR] [--only NAME]',
  summary:
    'Compiles every model source in a folder, checks them all, then publishes each through the atomic path (write, read back, verify, flip the manifest) and writes the configs (segments.json → config/segments). Compiled blobs also go to DIR/compiled/.',
  options: {
    dir: { type: 'string', arg: 'DIR', default: 'models', help: 'the folder of model sources (*.json)' },
    only: { type: 'string', arg: 'NAME', help: 'publish this model only (configs are skipped)' },
    remote: { type: 'boolean', help: 'write the real KV namespace (the one npm run deploy created) instead of local KV' },
    persist: { type: 'string', arg: 'DIR', help: 'the local state folder, as wrangler dev --persist-to (default .wrangler/state)' },
    'allow-kind-change': { type: 'boolean', help: "let a model's new version be of another kind than its active one" },
  },
} as const satisfies CliSpec;

await cliMain(import.meta.url, SPEC, async ({ values }) => {
  await readdir(values.dir); // a wrong folder fails here, before local KV starts
  const store = values.remote ? remoteStorage() : await localStorage(values.persist);
  try {
    const failures = await publishDirectory(values.dir, store, values.only, console.log, { allowKindChange: values['allow-kind-change'] });
    return failures > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
});
