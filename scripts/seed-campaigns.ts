/**
 * `node scripts/seed-campaigns.ts [--file demo/campaigns.json] [--persist dir]`: puts the demo
 * campaigns into the local KV `wrangler dev` serves (`config/campaigns`), so the IAB examples
 * get bids after `npm start` (docs/bidding.md, "Demo campaigns"). Each demo campaign the stored
 * list lacks is added; one it has is left as it is, so a campaign paused or edited on the
 * campaigns page stays so across restarts (one deleted comes back). The file is checked as the
 * admin API checks a write, and a stored list that does not validate is left alone.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Campaign } from '../src/core/bidding/campaign.ts';
import { CONFIG_KEYS } from '../src/core/store-keys.ts';
import * as z from 'zod/mini';
import { CampaignList, campaignProblem, type CampaignInput } from '../src/worker/bidding/bidding-schemas.ts';
import { localStorage } from '../src/train/storage.ts';

/** The Worker's own parse of a stored list (campaign-store.ts `parseCampaigns`): null when it does not validate. */
function parseCampaigns(raw: unknown): Campaign[] | null {
  const r = z.safeParse(CampaignList, raw);
  return r.success ? (r.data as Campaign[]) : null;
}

/** The stored list with every demo campaign it lacks appended, and the ids added. */
export function withDemo(stored: readonly Campaign[], demo: readonly Campaign[]): { list: Campaign[]; added: string[] } {
  const have = new Set(stored.map((c) => c.id));
  const added = demo.filter((c) => !have.has(c.id));
  return { list: [...stored, ...added], added: added.map((c) => c.id) };
}

/** The demo file's campaigns, or why the admin API would refuse them. */
export function parseDemo(raw: unknown): Campaign[] | string {
  const list = parseCampaigns(raw);
  if (list === null) return 'not a valid campaign list (the admin API schema)';
  for (const c of list) {
    const p = campaignProblem(c as CampaignInput);
    if (p) return `${c.id}: ${p.field}: ${p.message}`;
  }
  return [...list];
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { file: { type: 'string', default: 'demo/campaigns.json' }, persist: { type: 'string' } } });
  const demo = parseDemo(JSON.parse(await readFile(values.file, 'utf8')));
  if (typeof demo === 'string') {
    console.error(`${values.file}: ${demo}`);
    process.exit(1);
  }
  const store = await localStorage(values.persist);
  try {
    const text = await store.storage.getText(CONFIG_KEYS.campaigns);
    const stored = text === null ? [] : parseCampaigns(JSON.parse(text));
    if (stored === null) {
      console.warn(
        `config  ${CONFIG_KEYS.campaigns} holds a list that does not validate: demo campaigns not added (PUT /admin/campaigns replaces it)`,
      );
    } else {
      const { list, added } = withDemo(stored, demo);
      if (added.length > 0) await store.putJson(CONFIG_KEYS.campaigns, list);
      console.log(
        added.length > 0
          ? `config  ${CONFIG_KEYS.campaigns} ← ${values.file}: added ${added.join(', ')}`
          : `config  ${CONFIG_KEYS.campaigns}: the demo campaigns are there already (${list.length} campaigns)`,
      );
    }
  } finally {
    await store.close();
  }
}
