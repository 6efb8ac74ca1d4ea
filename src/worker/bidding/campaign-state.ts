/**
 * What the bidder needs from each campaign's ledger (campaign-ledger.ts), read
 * without putting a Durable Object round trip on every bid:
 *
 * - Spend (pacing, budgets) is cached per isolate and refreshed in the background at most every
 *   `SPEND_REFRESH_MS`; notices handled by this isolate add their cost at once. Staleness is
 *   bounded: between refreshes an isolate can overspend by what it wins in one second, which
 *   the pacing slack (2% of the daily budget) absorbs for any campaign not spending its whole
 *   day's budget in seconds. A campaign seen for the first time waits for one read.
 * - Frequency caps are per user, so they cannot be cached per campaign: a capped campaign asks
 *   its ledger synchronously, raced against the request's remaining time budget. No answer in
 *   time counts as capped: we would rather miss an impression than break a promise to a user.
 */
import type { CampaignState } from '../../core/bidding/bidder.ts';
import type { Campaign } from '../../core/bidding/campaign.ts';
import type { SpendState } from '../../core/bidding/pacing.ts';
import type { LedgerSnapshot } from './campaign-ledger.ts';
import { LATE, within } from './deadline.ts';
import { log } from '../shared/log.ts';

export const SPEND_REFRESH_MS = 1000;
const HOUR_MS = 3_600_000;

interface SpendSlot {
  spend: SpendState;
  at: number;
  refreshing: Promise<void> | null;
}

const spendCache = new Map<string, SpendSlot>();
const EXHAUSTED: SpendState = { day: 0, spent: Infinity, total: Infinity };

export function clearSpendCache(): void {
  spendCache.clear();
}

function ledger(env: Env, campaign: string) {
  return env.CAMPAIGN_LEDGER.get(env.CAMPAIGN_LEDGER.idFromName(campaign));
}

/** A ledger read within `ms`, else null (as for a failed read, which is logged). */
async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T | null> {
  if (ms <= 0) return null;
  const r = await within(
    p.catch((err: unknown) => {
      log.error('ledger read failed', { error: String(err) });
      return null;
    }),
    ms,
  );
  return r === LATE ? null : r;
}

const toSpend = (s: LedgerSnapshot): SpendState => ({ day: s.day, spent: s.spent, total: s.total });

/** Adds a cost this isolate just recorded, so its own bids see it before the next refresh. */
export function addLocalSpend(campaign: string, cost: number, now: number): void {
  const slot = spendCache.get(campaign);
  if (!slot) return;
  const day = Math.floor(now / 86_400_000);
  const s = slot.spend;
  slot.spend = s.day === day ? { day, spent: s.spent + cost, total: s.total + cost } : { day, spent: cost, total: s.total + cost };
}

/**
 * State per campaign for one request. `budgetMs`: how long we may wait for ledgers.
 */
export async function campaignStates(
  env: Env,
  list: readonly Campaign[],
  user: string | null,
  now: number,
  budgetMs: number,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<Map<string, CampaignState>> {
  const out = new Map<string, CampaignState>();
  const waits: Promise<void>[] = [];
  for (const c of list) {
    const capped = c.frequencyCap !== undefined && user !== null;
    const slot = spendCache.get(c.id);
    if (capped) {
      const windowMs = c.frequencyCap!.hours * HOUR_MS;
      waits.push(
        withDeadline(ledger(env, c.id).snapshot(now, user, windowMs), budgetMs).then((s) => {
          if (s === null) out.set(c.id, { spend: slot?.spend ?? EXHAUSTED, seen: Infinity });
          else {
            spendCache.set(c.id, { spend: toSpend(s), at: now, refreshing: null });
            out.set(c.id, { spend: toSpend(s), seen: s.seen });
          }
        }),
      );
      continue;
    }
    if (slot === undefined) {
      waits.push(
        withDeadline(ledger(env, c.id).snapshot(now, null, 0), budgetMs).then((s) => {
          if (s !== null) spendCache.set(c.id, { spend: toSpend(s), at: now, refreshing: null });
          out.set(c.id, { spend: s ? toSpend(s) : EXHAUSTED, seen: 0 });
        }),
      );
      continue;
    }
    if (now - slot.at >= SPEND_REFRESH_MS && slot.refreshing === null) {
      slot.refreshing = ledger(env, c.id)
        .snapshot(now, null, 0)
        .then(
          (s) => {
            slot.spend = toSpend(s);
            slot.at = now;
          },
          (err: unknown) => {
            log.error('ledger refresh failed', { campaign: c.id, error: String(err) });
          },
        )
        .finally(() => {
          slot.refreshing = null;
        });
      waitUntil(slot.refreshing);
    }
    out.set(c.id, { spend: slot.spend, seen: 0 });
  }
  if (waits.length > 0) await Promise.all(waits);
  return out;
}
