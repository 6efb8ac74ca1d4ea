/**
 * Campaign writes, for the admin API (admin-routes.ts) and the campaigns page (page-routes.ts)
 * alike: every write goes through the one writer (campaign-writer.ts), and a new campaign is
 * held to the rules a write must follow (bidding-schemas.ts `campaignProblem`).
 */
import type { Campaign } from '../../core/bidding/campaign.ts';
import { CONFIG_KEYS } from '../../core/store-keys.ts';
import { clearConfigCache } from '../shared/config-store.ts';
import { HttpError } from '../shared/http-error.ts';
import { log } from '../shared/log.ts';
import { campaignProblem, type CampaignInput } from './bidding-schemas.ts';
import type { CampaignOp, CampaignWrite } from './campaign-writer.ts';

/**
 * Hands `op` to the one writer, then drops this isolate's cached list. Bids everywhere see the
 * saved list once KV has it in their location (Cloudflare documents up to about 60 s; locally,
 * at once) and their isolates refresh (MODEL_REFRESH_SECONDS).
 */
export async function writeCampaigns(env: Env, op: CampaignOp): Promise<boolean> {
  const writer = env.CAMPAIGN_WRITER.get(env.CAMPAIGN_WRITER.idFromName(CONFIG_KEYS.campaigns));
  let r: CampaignWrite;
  try {
    r = await writer.apply(op);
  } catch (err) {
    // the writer was reset (a deploy) with the write under way: it may or may not have landed
    log.error('campaign writer unreachable', { error: String(err) });
    throw new HttpError(
      503,
      'writer_unavailable',
      'the campaign write may or may not have been saved; read the list, and repeat if needed',
    );
  }
  if (!r.ok) throw new HttpError(r.status, r.code, r.message, r.field);
  clearConfigCache();
  return r.created;
}

/** A 400 naming the field for what a new write may not do (campaignProblem). */
export function refuseProblem(x: Campaign, at: string): void {
  const p = campaignProblem(x as CampaignInput);
  if (p) throw new HttpError(400, 'invalid_request', `${at}${p.field}: ${p.message}`, `${at}${p.field}`);
}
