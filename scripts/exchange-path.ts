/**
 * `npm run exchange:path [-- URL]`: the path-form bid URL of each exchange in EXCHANGE_KEYS
 * (from the environment, else `.dev.vars`), for exchanges that cannot send an `Authorization`
 * header: `POST <base>/openrtb2/bid/<exchangeId>/<token>` (docs/bidding.md). The token is
 * derived from the key, so it changes when the key does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseExchangeKeys } from '../src/core/bidding/exchange-keys.ts';
import { CliError, cliMain, type CliSpec } from '../src/train/cli.ts';
import { URL_OPTION, workerUrl } from '../src/train/worker-url.ts';
import { parseDevVars } from './dev-vars.ts';

export const SPEC = {
  name: 'exchange:path',
  usage: 'npm run exchange:path [-- URL] [--url URL]',
  summary:
    "Prints each configured exchange's path-form bid URL (POST URL/openrtb2/bid/<exchange>/<token>), for exchanges that cannot send an Authorization header. Reads EXCHANGE_KEYS from the environment, else from .dev.vars.",
  positionals: { max: 1, name: 'URL' },
  options: {
    url: { ...URL_OPTION, help: 'the base of the printed URLs (or as the one argument; env ATTUNE_URL; default http://127.0.0.1:$PORT)' },
  },
} as const satisfies CliSpec;

await cliMain(import.meta.url, SPEC, ({ values, positionals }) => {
  const base = workerUrl(values.url ?? positionals[0]);
  const raw =
    process.env.EXCHANGE_KEYS ??
    (existsSync('.dev.vars') ? parseDevVars(readFileSync('.dev.vars', 'utf8')).get('EXCHANGE_KEYS') : undefined);
  const keys = parseExchangeKeys(raw);
  for (const p of keys.problems) console.error(`EXCHANGE_KEYS ${p}`);
  if (keys.entries.length === 0)
    throw new CliError(
      'no exchange configured: set EXCHANGE_KEYS (exchangeId:key,…) in the environment or in .dev.vars (npm start writes one)',
    );
  for (const e of keys.entries) console.log(`${e.exchange}\t${base}/openrtb2/bid/${e.exchange}/${e.pathToken}`);
  return 0;
});
