/**
 * What the bidder needs from each campaign's ledger (campaign-ledger.ts), read
 * without putting a Durable Object round trip on every bid:
 *
 * - Spend and reservations (pacing, budgets) are cached per isolate and refreshed in the
 *   background at most every `SPEND_REFRESH_MS`. What this isolate itself adds (its bids'
 *   reservations, the spend its notices book) is counted at once, on top of the last snapshot,
 *   until a snapshot asked for after the ledger confirmed it arrives: so a refresh never hides
 *   a bid or a booking (it may count one twice for a moment, which only bids less). The bidder
 *   reads this view while it bids (`SpendView.state`), and the bids it makes are added before
 *   the request yields (`reserveBids`), so concurrent requests in one isolate never bid the same
 *   money twice. A campaign seen for the first time waits for one read, shared by every
 *   request that needs it.
 * - Reservations go to the ledger in the background, coalesced for `FLUSH_MS` per campaign
 *   into one call. Another isolate sees them at its next refresh: that staleness is the bound
 *   on overspend (docs/bidding.md, "Budget safety"), the bids all isolates but the first make
 *   in one refresh interval after the cap is reached.
 * - Frequency caps are per user, so they cannot be cached per campaign: a capped campaign asks
 *   its ledger synchronously, raced against the request's remaining time budget. No answer in
 *   time counts as capped: we would rather miss an impression than break a promise to a user.
 */
import type { CampaignState } from '../../core/bidding/bidder.ts';
import type { Campaign } from '../../core/bidding/campaign.ts';
import { DAY_MS, type SpendState } from '../../core/bidding/pacing.ts';
import type { LedgerSnapshot } from './campaign-ledger.ts';
import { LATE, within } from './deadline.ts';
import { RESERVATION_MS, type Reservation } from './ledger-book.ts';
import { log } from '../shared/log.ts';

export const SPEND_REFRESH_MS = 1000;
/** how long an isolate gathers reservations of one campaign before sending them in one call */
const FLUSH_MS = 10;
const HOUR_MS = 3_600_000;

/** Something this isolate added that the last snapshot may not hold yet. */
interface Pending {
  readonly kind: 'reserved' | 'spent';
  readonly cost: number;
  /** ms when it was added (a reservation lapses RESERVATION_MS after its bid) */
  readonly at: number;
  /** `clock` when the ledger confirmed it; Infinity until then */
  acked: number;
}

interface SpendSlot {
  /** the ledger's last snapshot; null until the first read answers */
  spend: SpendState | null;
  /** `clock` when that snapshot was asked for, and the time */
  asked: number;
  at: number;
  reading: Promise<void> | null;
  pending: Pending[];
}

/** Orders this isolate's ledger calls: a snapshot asked after `acked` holds what was acked. */
let clock = 0;
const spendCache = new Map<string, SpendSlot>();
const EXHAUSTED: SpendState = { day: 0, spent: Infinity, total: Infinity };

export function clearSpendCache(): void {
  spendCache.clear();
  outbox.clear();
}

/** The campaign's ledger (campaign-ledger.ts). */
export function ledgerOf(env: Env, campaign: string) {
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

/** Takes a snapshot asked for at `asked`, unless a later one is in; drops what it now holds. */
function apply(slot: SpendSlot, s: LedgerSnapshot, asked: number, now: number): void {
  if (asked <= slot.asked) return;
  slot.spend = { day: s.day, spent: s.spent, total: s.total, reserved: s.reserved };
  slot.asked = asked;
  slot.at = now;
  slot.pending = slot.pending.filter((p) => p.acked > asked);
}

/** The slot's snapshot with this isolate's own additions on top. */
function view(slot: SpendSlot, now: number): SpendState | null {
  const s = slot.spend;
  if (s === null || slot.pending.length === 0) return s;
  const day = Math.floor(now / DAY_MS);
  let spent = s.day === day ? s.spent : 0;
  let total = s.total;
  let reserved = s.reserved ?? 0;
  let lapsed = false;
  for (const p of slot.pending) {
    if (p.kind === 'spent') {
      total += p.cost;
      if (Math.floor(p.at / DAY_MS) === day) spent += p.cost;
    } else if (now - p.at < RESERVATION_MS) reserved += p.cost;
    else lapsed = true;
  }
  if (lapsed) slot.pending = slot.pending.filter((p) => p.kind === 'spent' || now - p.at < RESERVATION_MS);
  return { day, spent, total, reserved };
}

function newSlot(): SpendSlot {
  return { spend: null, asked: 0, at: 0, reading: null, pending: [] };
}

/** Reads the ledger into the slot (one read at a time per slot; concurrent callers share it). */
function read(env: Env, campaign: string, slot: SpendSlot, now: number): Promise<void> {
  if (slot.reading !== null) return slot.reading;
  const asked = ++clock;
  slot.reading = ledgerOf(env, campaign)
    .snapshot(now, null, 0)
    .then(
      (s) => apply(slot, s, asked, now),
      (err: unknown) => log.error('ledger read failed', { campaign, error: String(err) }),
    )
    .finally(() => {
      slot.reading = null;
    });
  return slot.reading;
}

/** One request's view of its campaigns' ledgers. */
export interface SpendView {
  /** the campaign's state as it stands now (read while the bidder runs, not when the request began) */
  readonly state: (campaign: string) => CampaignState;
}

/** State per campaign for one request. `budgetMs`: how long we may wait for ledgers. */
export async function campaignStates(
  env: Env,
  list: readonly Campaign[],
  user: string | null,
  now: number,
  budgetMs: number,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<SpendView> {
  const seen = new Map<string, number>();
  const waits: Promise<void>[] = [];
  for (const c of list) {
    let slot = spendCache.get(c.id);
    if (slot === undefined) spendCache.set(c.id, (slot = newSlot()));
    if (c.frequencyCap !== undefined && user !== null) {
      const windowMs = c.frequencyCap.hours * HOUR_MS;
      const asked = ++clock;
      const s0 = slot;
      waits.push(
        withDeadline(ledgerOf(env, c.id).snapshot(now, user, windowMs), budgetMs).then((s) => {
          seen.set(c.id, s === null ? Infinity : s.seen);
          if (s !== null) apply(s0, s, asked, now);
        }),
      );
    } else if (slot.spend === null) {
      waits.push(withDeadline(read(env, c.id, slot, now), budgetMs).then(() => {}));
    } else if (now - slot.at >= SPEND_REFRESH_MS && slot.reading === null) {
      waitUntil(read(env, c.id, slot, now));
    }
  }
  if (waits.length > 0) await Promise.all(waits);
  return {
    state: (id) => {
      const slot = spendCache.get(id);
      const spend = slot === undefined ? null : view(slot, Date.now());
      // never read (or the read failed): no bid, as for a ledger that is out of reach
      return { spend: spend ?? EXHAUSTED, seen: seen.get(id) ?? 0 };
    },
  };
}

/** Adds a cost this isolate just booked, so its own bids see it before the next refresh. */
export function addLocalSpend(campaign: string, cost: number, now: number): void {
  spendCache.get(campaign)?.pending.push({ kind: 'spent', cost, at: now, acked: ++clock });
}

/** A bid as its reservation needs it. */
export interface BidToReserve {
  readonly campaign: string;
  readonly decisionId: string;
  /** the price bid and the value, CPM in the campaign currency */
  readonly basePrice: number;
  readonly value: number;
}

const outbox = new Map<string, { bids: Reservation[]; pending: Pending[] }>();

/**
 * Holds each bid's price against its campaign's budget: at once in this isolate (call it before
 * the request yields), and in the ledger within FLUSH_MS, gathered with other requests' bids.
 */
export function reserveBids(
  env: Env,
  bids: readonly BidToReserve[],
  exchange: string,
  now: number,
  waitUntil: (p: Promise<unknown>) => void,
): void {
  for (const b of bids) {
    let slot = spendCache.get(b.campaign);
    if (slot === undefined) spendCache.set(b.campaign, (slot = newSlot()));
    const p: Pending = { kind: 'reserved', cost: b.basePrice / 1000, at: now, acked: Infinity };
    slot.pending.push(p);
    let box = outbox.get(b.campaign);
    if (box === undefined) {
      outbox.set(b.campaign, (box = { bids: [], pending: [] }));
      waitUntil(flushAfter(env, b.campaign, box));
    }
    box.bids.push({ decisionId: b.decisionId, ts: now, cost: b.basePrice / 1000, value: b.value / 1000, exchange });
    box.pending.push(p);
  }
}

async function flushAfter(env: Env, campaign: string, box: { bids: Reservation[]; pending: Pending[] }): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, FLUSH_MS));
  if (outbox.get(campaign) === box) outbox.delete(campaign); // later bids start a new batch
  const asked = ++clock;
  try {
    const s = await ledgerOf(env, campaign).reserve(box.bids, Date.now());
    const acked = ++clock;
    for (const p of box.pending) p.acked = acked;
    const slot = spendCache.get(campaign);
    if (slot !== undefined) apply(slot, s, asked, Date.now());
  } catch (err) {
    // counted here until they lapse; other isolates do not see them (logged: the bound is looser)
    log.error('bid reservations not recorded', { campaign, bids: box.bids.length, error: String(err) });
  }
}
