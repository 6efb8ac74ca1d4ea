/**
 * `.dev.vars`, the local secrets `wrangler dev` reads (dotenv syntax): read a value, and add the
 * secrets a checkout is missing without touching the ones it has. `npm start` (start.mjs) and
 * `npm run exchange:path` use it.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/;

/** The names and values a dotenv text defines (quotes removed; a later line wins, as in wrangler). */
export function parseDevVars(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(#|$)/.test(line)) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    let value = m[2]!;
    const q = value[0];
    if ((q === '"' || q === "'" || q === '`') && value.lastIndexOf(q) > 0) value = value.slice(1, value.lastIndexOf(q));
    else value = value.replace(/\s+#.*$/, ''); // an unquoted value's inline comment
    out.set(m[1]!, value);
  }
  return out;
}

const random = () => randomBytes(24).toString('base64url');

/**
 * What `npm start` needs in `.dev.vars`, each with a fresh random value when missing. A secret
 * still set under its old name (`legacy`, which the Worker reads for one release) counts as set:
 * a second secret beside it would take over and invalidate the cookies signed with the first.
 */
export const LOCAL_SECRETS: ReadonlyArray<readonly [name: string, value: () => string, legacy?: string]> = [
  ['SIGNING_SECRET', random, 'PROFILE_SECRET'],
  ['ADMIN_TOKEN', random],
  // the demo exchange: bid requests send this key (docs/bidding.md)
  ['EXCHANGE_KEYS', () => `demo:${random()}`],
];

/**
 * Adds every secret of `wanted` that `file` does not define, as new lines at its end; existing
 * lines, values and comments stay as they are. Returns the names added.
 */
export function addMissingSecrets(file: string, wanted = LOCAL_SECRETS): string[] {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const have = parseDevVars(text);
  const missing = wanted.filter(([name, , legacy]) => !have.has(name) && (legacy === undefined || !have.has(legacy)));
  if (missing.length === 0) return [];
  const lines = missing.map(([name, value]) => `${name}=${value()}\n`).join('');
  if (text === '') writeFileSync(file, lines, { mode: 0o600 });
  else appendFileSync(file, (text.endsWith('\n') ? '' : '\n') + lines);
  return missing.map(([name]) => name);
}
