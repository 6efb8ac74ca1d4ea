/**
 * `npm run exchange:path [-- <base URL>]`: the path-form bid URL of each exchange in
 * EXCHANGE_KEYS (from the environment, else `.dev.vars`), for exchanges that cannot send an
 * `Authorization` header: `POST <base>/openrtb2/bid/<exchangeId>/<token>` (docs/bidding.md).
 * The token is derived from the key, so it changes when the key does.
 */
import { readFileSync, existsSync } from 'node:fs';
import { parseExchangeKeys } from '../src/core/bidding/exchange-keys.ts';
import { parseDevVars } from './dev-vars.ts';

const base = (process.argv[2] ?? `http://127.0.0.1:${process.env.PORT ?? '8787'}`).replace(/\/$/, '');
const raw =
  process.env.EXCHANGE_KEYS ?? (existsSync('.dev.vars') ? parseDevVars(readFileSync('.dev.vars', 'utf8')).get('EXCHANGE_KEYS') : undefined);
const keys = parseExchangeKeys(raw);
for (const p of keys.problems) console.error(`EXCHANGE_KEYS ${p}`);
if (keys.entries.length === 0) {
  console.error('no exchange configured: set EXCHANGE_KEYS (exchangeId:key,…) in the environment or in .dev.vars');
  process.exit(1);
}
for (const e of keys.entries) console.log(`${e.exchange}\t${base}/openrtb2/bid/${e.exchange}/${e.pathToken}`);
