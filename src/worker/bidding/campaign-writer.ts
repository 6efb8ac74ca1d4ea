/**
 * CampaignWriter: the one writer of the campaign list (`config/campaigns` in KV), a single
 * Durable Object for the whole deployment. Admin writes are read-modify-write on one key, and
 * KV has no compare-and-swap: two writers in different locations could each read the list,
 * add their campaign and write, and one campaign would be lost. Every write goes through this
 * object instead, so each reads the list the previous one wrote.
 *
 * Writes are committed in groups. KV takes one write per second to a key; the writes that
 * arrive while the object waits for that gap (or for KV) are applied in order to one read of
 * the list and saved in one put, and each caller gets its own answer (201, 404, 409...).
 * KV stays the source of truth, so a list put there by hand or by a CLI is what the next write
 * starts from, except within a minute of this object's own write (`baseText`).
 */
import { DurableObject } from 'cloudflare:workers';
import { MAX_CAMPAIGNS, type Campaign } from '../../core/bidding/campaign.ts';
import { CONFIG_KEYS } from '../../core/store-keys.ts';
import { log } from '../shared/log.ts';
import { groupQueue, KeyWriteWindow } from '../shared/single-writer.ts';
import { kvOf } from '../shared/bindings.ts';

export type CampaignOp =
  | { readonly kind: 'replace'; readonly list: readonly Campaign[] }
  | { readonly kind: 'put'; readonly campaign: Campaign }
  | { readonly kind: 'delete'; readonly id: string };

export type CampaignWrite =
  | { readonly ok: true; readonly created: boolean }
  | { readonly ok: false; readonly status: 404 | 409 | 503; readonly code: string; readonly message: string; readonly field?: string };

export const UNREADABLE = {
  ok: false,
  status: 409,
  code: 'campaigns_unreadable',
  message: `the stored campaign list (${CONFIG_KEYS.campaigns}) does not validate; replace it whole with PUT /admin/campaigns`,
} as const satisfies CampaignWrite;

/**
 * Applies `op` to `list` (null: the stored list does not validate) in place; the answer for
 * its caller. Only a replace can start from an unreadable list: rewriting it from "[]" would
 * delete every campaign in it.
 */
export function applyCampaignOp(list: Campaign[] | null, op: CampaignOp): { list: Campaign[] | null; answer: CampaignWrite } {
  if (op.kind === 'replace') return { list: [...op.list], answer: { ok: true, created: false } };
  if (list === null) return { list, answer: UNREADABLE };
  if (op.kind === 'delete') {
    const at = list.findIndex((x) => x.id === op.id);
    if (at === -1)
      return { list, answer: { ok: false, status: 404, code: 'unknown_campaign', message: `no campaign "${op.id}"`, field: 'id' } };
    list.splice(at, 1);
    return { list, answer: { ok: true, created: false } };
  }
  const at = list.findIndex((x) => x.id === op.campaign.id);
  if (at === -1 && list.length >= MAX_CAMPAIGNS) {
    return { list, answer: { ok: false, status: 409, code: 'too_many_campaigns', message: `at most ${MAX_CAMPAIGNS} campaigns` } };
  }
  if (at === -1) list.push(op.campaign);
  else list[at] = op.campaign;
  return { list, answer: { ok: true, created: at === -1 } };
}

export class CampaignWriter extends DurableObject<Env> {
  private readonly list: KeyWriteWindow;
  private readonly queue: (op: CampaignOp) => Promise<CampaignWrite>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.list = new KeyWriteWindow(ctx, env, 'campaign writer');
    // the writes that arrive while the gap runs out join the group
    this.queue = groupQueue(
      (group) => this.commit(group),
      () => this.list.gap(),
    );
  }

  /** Queues `op` behind the writes before it; resolves once its group is saved (or refused). */
  apply(op: CampaignOp): Promise<CampaignWrite> {
    return this.queue(op);
  }

  private async commit(group: readonly CampaignOp[]): Promise<CampaignWrite[]> {
    const answers: CampaignWrite[] = [];
    let changed = false;
    let list: Campaign[] | null = [];
    try {
      // a group that starts by replacing the list needs nothing from the stored one
      if (group[0]!.kind !== 'replace') {
        const text = this.list.base(await kvOf(this.env).get(CONFIG_KEYS.campaigns));
        // the list's schemas load with the first write that reads it, not with every isolate
        // that exports this class (all of them: index.ts)
        list = text === null ? [] : readList(text, (await import('./campaign-store.ts')).parseCampaigns);
      }
      for (const op of group) {
        const r = applyCampaignOp(list, op);
        list = r.list;
        answers.push(r.answer);
        changed ||= r.answer.ok;
      }
      // a refusal (one write a second per key) fails the group
      if (changed && list !== null) await this.list.put(JSON.stringify(list), (text) => kvOf(this.env).put(CONFIG_KEYS.campaigns, text));
    } catch (err) {
      // KV refused or failed: nothing in this group was saved, and each caller is told to retry.
      log.error('campaign write failed', { error: String(err), writes: group.length });
      const retry: CampaignWrite = {
        ok: false,
        status: 503,
        code: 'store_unavailable',
        message: 'the campaign list could not be saved; repeat the request',
      };
      return group.map(() => retry);
    }
    return answers;
  }
}

/** The stored list, or null when it does not validate (or is not JSON at all). */
function readList(text: string, parseCampaigns: (raw: unknown) => readonly Campaign[] | null): Campaign[] | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  return parseCampaigns(raw)?.slice() ?? null;
}
