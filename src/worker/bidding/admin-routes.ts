/**
 * Admin API for campaigns and FX rates (bearer auth). Campaigns are one JSON list in KV
 * (`config/campaigns`): admin writes are rare and read-modify-write on one key keeps every
 * bid's view of the campaign set consistent. This isolate sees a write at once; others within
 * MODEL_REFRESH_SECONDS. `GET …/:id/ledger` shows the campaign's spend from its ledger, also per exchange.
 *
 * Every write goes through one Durable Object (campaign-writer.ts), so concurrent writes from
 * anywhere each start from the list the one before saved. A stored list that no longer
 * validates (edited by hand) is never treated as empty: reads and single-campaign writes answer
 * 409 until `PUT /admin/campaigns` replaces the whole list.
 */
import { Hono } from 'hono';
import type { Campaign } from '../../core/bidding/campaign.ts';
import { CONFIG_KEYS } from '../../core/store-keys.ts';
import { requireAdmin } from '../shared/bearer-auth.ts';
import { Campaign as CampaignSchema, CampaignList, RatesTable } from './bidding-schemas.ts';
import { readJson } from '../shared/body.ts';
import { parseCampaigns } from './campaign-store.ts';
import { UNREADABLE } from './campaign-writer.ts';
import { refuseProblem, writeCampaigns as write } from './campaign-admin.ts';
import { clearConfigCache } from '../shared/config-store.ts';
import { HttpError } from '../shared/http-error.ts';
import type { AppEnv } from '../shared/types.ts';
import { kvOf } from '../shared/bindings.ts';

const MAX_BYTES = 256 * 1024;

async function stored(kv: KVNamespace): Promise<Campaign[]> {
  const raw = await kv.get(CONFIG_KEYS.campaigns, 'json');
  if (raw === null) return [];
  const list = parseCampaigns(raw);
  if (list === null) throw new HttpError(UNREADABLE.status, UNREADABLE.code, UNREADABLE.message);
  return [...list];
}

export const adminCampaignRoutes = new Hono<AppEnv>()
  .use('/admin/campaigns', requireAdmin)
  .use('/admin/campaigns/*', requireAdmin)
  .use('/admin/fx-rates', requireAdmin)
  .get('/admin/campaigns', async (c) => c.json({ campaigns: await stored(kvOf(c.env)) }))
  .get('/admin/campaigns/:id', async (c) => {
    const found = (await stored(kvOf(c.env))).find((x) => x.id === c.req.param('id'));
    if (!found) throw new HttpError(404, 'unknown_campaign', `no campaign "${c.req.param('id')}"`, 'id');
    return c.json(found);
  })
  .put('/admin/campaigns', async (c) => {
    const body = (await readJson(c.req.raw, CampaignList, MAX_BYTES)) as Campaign[];
    body.forEach((x, i) => {
      refuseProblem(x, `[${i}].`);
    });
    await write(c.env, { kind: 'replace', list: body });
    return c.json({ campaigns: body });
  })
  .put('/admin/campaigns/:id', async (c) => {
    const body = (await readJson(c.req.raw, CampaignSchema, MAX_BYTES)) as Campaign;
    refuseProblem(body, '');
    if (body.id !== c.req.param('id')) throw new HttpError(400, 'invalid_request', 'body id must match the URL', 'id');
    const created = await write(c.env, { kind: 'put', campaign: body });
    return c.json(body, created ? 201 : 200);
  })
  .delete('/admin/campaigns/:id', async (c) => {
    await write(c.env, { kind: 'delete', id: c.req.param('id') });
    return c.body(null, 204);
  })
  .get('/admin/campaigns/:id/ledger', async (c) => {
    const id = c.req.param('id');
    const stub = c.env.CAMPAIGN_LEDGER.get(c.env.CAMPAIGN_LEDGER.idFromName(id));
    const now = Date.now();
    const [snapshot, exchanges] = await Promise.all([stub.snapshot(now, null, 0), stub.byExchange(now)]);
    return c.json({ ...snapshot, exchanges });
  })
  .get('/admin/fx-rates', async (c) => c.json((await kvOf(c.env).get(CONFIG_KEYS.fxRates, 'json')) ?? null))
  .put('/admin/fx-rates', async (c) => {
    const body = await readJson(c.req.raw, RatesTable, 64 * 1024);
    await kvOf(c.env).put(CONFIG_KEYS.fxRates, JSON.stringify(body));
    clearConfigCache();
    return c.json(body);
  });
