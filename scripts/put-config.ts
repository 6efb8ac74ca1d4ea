/**
 * `node scripts/put-config.ts <kv-key> <file.json> [--persist dir]`: writes a JSON config into
 * the local KV that `wrangler dev` serves (e.g. the demo's page rules as config/page-rules),
 * after checking it against the Worker's own schema when there is one for that key.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CONFIG_KEYS } from '../src/core/store-keys.ts';
import { pageRulesProblems } from '../src/worker/proxy/page-rules.ts';
import { localStorage } from '../src/train/storage.ts';

/** What is wrong with a config, by key ([] when valid). */
const VALIDATORS: Record<string, (raw: unknown) => string[]> = { [CONFIG_KEYS.pageRules]: pageRulesProblems };

const { positionals, values } = parseArgs({ allowPositionals: true, options: { persist: { type: 'string' } } });
const [key, file] = positionals;
if (!key || !file) {
  console.error('usage: node scripts/put-config.ts <kv-key> <file.json> [--persist dir]');
  process.exit(2);
}
const raw = JSON.parse(await readFile(file, 'utf8'));
const problems = VALIDATORS[key]?.(raw) ?? [];
if (problems.length > 0) {
  console.error(`${file} is not a valid ${key}:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
const store = await localStorage(values.persist);
try {
  await store.putJson(key, raw);
  console.log(`config  ${key} ← ${file}`);
} finally {
  await store.close();
}
