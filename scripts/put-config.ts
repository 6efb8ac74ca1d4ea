/**
 * `node scripts/put-config.ts <kv-key> <file.json> [--persist dir]`: writes a JSON config into
 * the local KV that `wrangler dev` serves (e.g. the demo's page rules as config/page-rules),
 * after checking it against the Worker's own schema when there is one for that key.
 */
import { readFile } from 'node:fs/promises';
import { CONFIG_KEYS } from '../src/core/store-keys.ts';
import { CliError, cliMain, type CliSpec } from '../src/train/cli.ts';
import { localStorage } from '../src/train/storage.ts';
import { pageRulesProblems } from '../src/worker/proxy/page-rules.ts';

/** What is wrong with a config, by key ([] when valid). */
const VALIDATORS: Record<string, (raw: unknown) => string[]> = { [CONFIG_KEYS.pageRules]: pageRulesProblems };

export const SPEC = {
  name: 'put-config',
  usage: 'node scripts/put-config.ts KEY FILE [--persist DIR]',
  summary: `Writes a JSON config into the local KV that wrangler dev serves (e.g. ${CONFIG_KEYS.pageRules} from demo/page-rules.json), checked against the Worker's schema for that key when it has one.`,
  positionals: { min: 2, max: 2, name: 'KEY and FILE' },
  options: {
    persist: { type: 'string', arg: 'DIR', help: 'the local state folder, as wrangler dev --persist-to (default .wrangler/state)' },
  },
} as const satisfies CliSpec;

await cliMain(import.meta.url, SPEC, async ({ values, positionals }) => {
  const [key = '', file = ''] = positionals;
  const text = await readFile(file, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  // a named site's config is checked as the default site's key of the same name (core/store-keys.ts)
  const problems = VALIDATORS[key.replace(/^site-data\/[^/]+\//, '')]?.(raw) ?? [];
  if (problems.length > 0) throw new CliError(`${file} is not a valid ${key}:\n  ${problems.join('\n  ')}`);
  const store = await localStorage(values.persist);
  try {
    await store.putJson(key, raw);
    console.log(`config  ${key} ← ${file}`);
  } finally {
    await store.close();
  }
  return 0;
});
