/**
 * The Worker's settings: the environment variables and secrets it reads beyond bindings, parsed
 * once per isolate by one set of rules. A number that is unset, empty or not a number in range
 * means its default; the defaults are wrangler.toml's. The parse is kept per environment (an
 * isolate sees one; tests hand the app others) and redone only when a value changes.
 *
 * Two settings are parsed where they are used, with the same memo per value, because their
 * parse is that feature's own and logs what it refuses: `EXCHANGE_KEYS` (bidding/exchange-auth.ts)
 * and `ORIGIN_URL` (proxy/origin.ts).
 */
import { secretProblem } from '../../core/secret-strength.ts';
import type { StoreOptions } from './refresh-cache.ts';
import { log } from './log.ts';

const NAMES = [
  'MODEL_REFRESH_SECONDS',
  'KV_WRITE_GAP_MS',
  'KV_STALE_MS',
  'ORIGIN_TIMEOUT_MS',
  'ALLOWED_ORIGINS',
  'ADMIN_TOKEN',
  'ADMIN_TOKENS',
  'PARTNER_TOKENS',
  'SIGNING_SECRET',
  'PROFILE_SECRET',
  'DEBUG_EXCHANGES',
  'ADMIN_HOST',
] as const;

/** What the settings are read from: the Worker's `env` (or a Durable Object's), or a test's stand-in. */
export type SettingsEnv = { readonly [K in (typeof NAMES)[number]]?: string | undefined };

export interface Settings {
  /** MODEL_REFRESH_SECONDS in ms (default 5 s): how often per-isolate caches re-read KV in the background */
  readonly refreshMs: number;
  /** KV_WRITE_GAP_MS (default 1 s): the least time between two writes of one key by a writer object */
  readonly writeGapMs: number;
  /** KV_STALE_MS (default 60 s): how long after its own write a writer trusts it over a KV read */
  readonly staleMs: number;
  /** ORIGIN_TIMEOUT_MS (default 10 s, more than 0): the wait for the origin's headers, then for each body chunk */
  readonly originTimeoutMs: number;
  /**
   * ALLOWED_ORIGINS: the browser origins given CORS grants on /v1; `*` any. Unset or empty is
   * none, wrangler.toml's default (npm start and the tests set `*`, npm run deploy the site's).
   */
  readonly allowedOrigins: '*' | readonly string[];
  /** ADMIN_TOKEN, undefined when unset, empty or weak (the admin API and page then answer 503) */
  readonly adminToken: string | undefined;
  /**
   * every admin token with its label, for the audit log: ADMIN_TOKEN as `admin`, then each
   * `label:token` of ADMIN_TOKENS (comma-separated; entries without a label or token, and weak
   * tokens, are skipped)
   */
  readonly adminTokens: readonly { readonly label: string; readonly token: string }[];
  /** what /v1/bid-adjust takes: the admin token and each of PARTNER_TOKENS, trimmed, empty and weak ones dropped */
  readonly partnerTokens: readonly string[];
  /** SIGNING_SECRET, else (deprecated) PROFILE_SECRET; undefined when neither is set, or the one set is weak */
  readonly signingSecret: string | undefined;
  /** the secret came from PROFILE_SECRET, its name before SIGNING_SECRET (read for one release) */
  readonly legacySecret: boolean;
  /** DEBUG_EXCHANGES (default none): the exchanges whose debug requests get the bidder's explanation (`*`: all) */
  readonly debugExchanges: '*' | readonly string[];
  /** ADMIN_HOST: the host names (lower case, no port) the admin page answers on; empty when unset (shared/admin-host.ts) */
  readonly adminHosts: readonly string[];
}

/** A duration or count from the environment; unset, empty, not a number or below `min` means `fallback`. */
export function numberVar(value: string | undefined, fallback: number, min = 0): number {
  const n = value === undefined || value.trim() === '' ? Number.NaN : Number(value);
  return Number.isFinite(n) && n >= min ? n : fallback;
}

/** A comma-separated list; `*` anywhere in it means everything. */
function listVar(value: string | undefined): '*' | readonly string[] {
  const items = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return items.includes('*') ? '*' : items;
}

export const DEFAULTS = { refreshSeconds: 5, writeGapMs: 1_000, staleMs: 60_000, originTimeoutMs: 10_000 } as const;

/**
 * A secret, or undefined when it is unset, empty or weak (core/secret-strength.ts); a weak one
 * is logged by name and reason, never its value.
 */
function secret(value: string | undefined, setting: string, entry?: number): string | undefined {
  if (!value) return undefined;
  const problem = secretProblem(value);
  if (problem === null) return value;
  log.error('secret refused: treated as not configured', { setting, ...(entry !== undefined ? { entry } : {}), reason: problem });
  return undefined;
}

function parse(env: SettingsEnv): Settings {
  const origins = (env.ALLOWED_ORIGINS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const adminToken = secret(env.ADMIN_TOKEN, 'ADMIN_TOKEN');
  const partners = (env.PARTNER_TOKENS ?? '').split(',').map((t) => t.trim());
  const partnerTokens = partners.map((t, i) => secret(t, 'PARTNER_TOKENS', i + 1)).filter((t) => t !== undefined);
  const legacySecret = !env.SIGNING_SECRET && !!env.PROFILE_SECRET;
  return {
    refreshMs: numberVar(env.MODEL_REFRESH_SECONDS, DEFAULTS.refreshSeconds) * 1000,
    writeGapMs: numberVar(env.KV_WRITE_GAP_MS, DEFAULTS.writeGapMs),
    staleMs: numberVar(env.KV_STALE_MS, DEFAULTS.staleMs),
    originTimeoutMs: numberVar(env.ORIGIN_TIMEOUT_MS, DEFAULTS.originTimeoutMs, Number.MIN_VALUE),
    allowedOrigins: origins.includes('*') ? '*' : origins,
    adminToken,
    adminTokens: adminTokens(env, adminToken),
    partnerTokens: adminToken === undefined ? partnerTokens : [adminToken.trim(), ...partnerTokens],
    signingSecret: legacySecret ? secret(env.PROFILE_SECRET, 'PROFILE_SECRET') : secret(env.SIGNING_SECRET, 'SIGNING_SECRET'),
    legacySecret,
    adminHosts: (env.ADMIN_HOST ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase().replace(/:\d+$/, ''))
      .filter((h) => h !== ''),
    debugExchanges: listVar(env.DEBUG_EXCHANGES),
  };
}

const LABEL = /^[A-Za-z0-9_.@-]{1,64}$/;

function adminTokens(env: SettingsEnv, adminToken: string | undefined): Settings['adminTokens'] {
  const out: { label: string; token: string }[] = adminToken ? [{ label: 'admin', token: adminToken }] : [];
  for (const [i, entry] of (env.ADMIN_TOKENS ?? '').split(',').entries()) {
    const colon = entry.indexOf(':');
    const label = entry.slice(0, colon).trim();
    if (entry.trim() === '') continue;
    // a weak token is logged by secret() and skipped like a malformed entry
    const token = colon < 0 ? undefined : secret(entry.slice(colon + 1).trim(), 'ADMIN_TOKENS', i + 1);
    if (!LABEL.test(label) || token === undefined) log.warn('ADMIN_TOKENS: an entry is not label:token, skipped', { label });
    else out.push({ label, token });
  }
  return out;
}

let last: { env: SettingsEnv; raw: string; settings: Settings } | null = null;

/** Each env object's settings: a deployment with sites hands routes one env per site (sites/site-env.ts), interleaved. */
const byEnv = new WeakMap<SettingsEnv, Settings>();

export function settings(env: SettingsEnv): Settings {
  if (last !== null && last.env === env) return last.settings;
  const held = byEnv.get(env);
  if (held !== undefined && (env as { ATTUNE_SITE?: string }).ATTUNE_SITE !== undefined) return held;
  // unset and empty differ ('\u0000' is no value a variable can hold)
  const raw = NAMES.map((n) => env[n] ?? '\u0000').join('\u0001');
  last = last !== null && last.raw === raw ? { env, raw, settings: last.settings } : { env, raw, settings: parse(env) };
  byEnv.set(env, last.settings);
  return last.settings;
}

let warnedSecret = false;

/**
 * The signing secret (profile cookies, notice and click URLs), or undefined when the deployment
 * lacks it; either is said once per isolate in the log, as is a secret still set under its old
 * name, PROFILE_SECRET.
 */
export function signingSecret(c: { readonly env: SettingsEnv }): string | undefined {
  const s = settings(c.env);
  if (!warnedSecret && (s.signingSecret === undefined || s.legacySecret)) {
    warnedSecret = true;
    if (s.signingSecret === undefined)
      log.error(
        'SIGNING_SECRET is not set (or refused as weak): visitor profiles are disabled, bids and notices refused; set 32 or more random characters with `wrangler secret put SIGNING_SECRET`',
      );
    else
      log.warn('the signing secret is set as PROFILE_SECRET, a name deprecated for SIGNING_SECRET: set SIGNING_SECRET to the same value');
  }
  return s.signingSecret;
}

/** How this request's per-isolate caches refresh (model-store.ts, config-store.ts). */
export function storeOptions(
  c: { readonly env: SettingsEnv; readonly executionCtx: { waitUntil(p: Promise<unknown>): void } },
  now: number,
): StoreOptions {
  return { now, refreshMs: settings(c.env).refreshMs, waitUntil: (p) => c.executionCtx.waitUntil(p) };
}
