/** Shared helpers for the workerd suites: build models, publish them, call the API. */
import { reset } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { encodeLinearModel, type LinearModelInput } from '../../src/core/linear-model.ts';
import { hashFeatureKey } from '../../src/core/feature-keys.ts';
import { clearConfigCache } from '../../src/worker/shared/config-store.ts';
import { clearRepeatedWarnings } from '../../src/worker/shared/log.ts';
import { clearExperimentKeys } from '../../src/worker/experiments/store.ts';
import { clearModelCache } from '../../src/worker/models/model-store.ts';
import { clearSiteCache } from '../../src/worker/sites/site-resolve.ts';
import { clearLastGoodRecs } from '../../src/worker/recommend/recommender.ts';

export const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };
export const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
export const DESKTOP = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

export function fetchWorker(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`http://attune.test${path}`, init));
}

export function postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetchWorker(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': DESKTOP, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A linear model whose weights are given by readable feature keys. */
export function linearBlob(
  opts: Partial<LinearModelInput> & {
    name: string;
    version: string;
    variants: string[];
    keyed?: Record<string, Record<string, number>>;
    biasBy?: Record<string, number>;
  },
): Uint8Array {
  const bits = opts.bits ?? 10;
  const k = opts.variants.length;
  const weights = new Float32Array((1 << bits) * k);
  for (const [key, per] of Object.entries(opts.keyed ?? {})) {
    const h = hashFeatureKey(key);
    if (h === null) throw new Error(`bad key ${key}`);
    for (const [v, w] of Object.entries(per)) weights[(h & ((1 << bits) - 1)) * k + opts.variants.indexOf(v)]! += w;
  }
  const bias = opts.variants.map((v) => opts.biasBy?.[v] ?? 0);
  return encodeLinearModel({ ...opts, bits, weights, bias, policy: opts.policy ?? { type: 'greedy', epsilon: 0 } });
}

export async function publish(blob: Uint8Array, query = ''): Promise<Response> {
  return fetchWorker(`/admin/models${query}`, { method: 'PUT', headers: ADMIN, body: blob });
}

export function resetCaches(): void {
  clearModelCache();
  clearConfigCache();
  clearSiteCache();
  clearExperimentKeys();
  clearRepeatedWarnings();
}

/** Empties every binding's storage and this isolate's caches: each test starts from nothing. */
export async function resetAll(): Promise<void> {
  clearLastGoodRecs();
  await reset();
  resetCaches();
}

export function cookiesOf(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const eq = pair!.indexOf('=');
    out[pair!.slice(0, eq)] = pair!.slice(eq + 1);
  }
  return out;
}

export function cookieHeader(cookies: Record<string, string>): string {
  return Object.entries(cookies)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
}
