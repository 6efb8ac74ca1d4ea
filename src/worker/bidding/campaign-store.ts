/**
 * Campaigns and FX rates: JSON configs in KV, cached per isolate like model manifests
 * (`readConfig`). The admin API writes them; bids read the cached copy and never wait on KV
 * once warm.
 */
import * as z from 'zod/mini';
import type { Campaign } from '../../core/bidding/campaign.ts';
import { DEFAULT_RATES, type RatesTable } from '../../core/bidding/currency.ts';
import { CONFIG_KEYS } from '../../core/store-keys.ts';
import { CampaignList, RatesTable as RatesSchema } from './bidding-schemas.ts';
import { readConfig } from '../shared/config-store.ts';
import type { StoreOptions } from '../shared/refresh-cache.ts';

const NONE: readonly Campaign[] = Object.freeze([]);

export function parseCampaigns(raw: unknown): readonly Campaign[] | null {
  const r = z.safeParse(CampaignList, raw);
  return r.success ? (r.data as readonly Campaign[]) : null;
}

export function parseRates(raw: unknown): RatesTable | null {
  const r = z.safeParse(RatesSchema, raw);
  return r.success ? r.data : null;
}

export function campaigns(kv: KVNamespace, opts: StoreOptions): Promise<readonly Campaign[]> {
  return readConfig(kv, CONFIG_KEYS.campaigns, parseCampaigns, NONE, opts);
}

export function fxRates(kv: KVNamespace, opts: StoreOptions): Promise<RatesTable> {
  return readConfig(kv, CONFIG_KEYS.fxRates, parseRates, DEFAULT_RATES, opts);
}
