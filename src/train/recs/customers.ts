/**
 * Customers' orders for the next-basket model and its evaluation: histories by customer, the
 * orders a caller would send (`/v1/recommend`'s `orders`: newest first, at most 50 orders and
 * 1,000 ids), the next-basket cases of a time split, and the per-item facts the model's priors
 * are made of. Everything here is order-free: items within an order are read as a set.
 */
import type { Basket } from './baskets.ts';

/** What `/v1/recommend` accepts (recommend-schema.ts); the trainer fits on what callers can send. */
export const MAX_ORDERS = 50;
export const MAX_ORDER_IDS = 1000;
const DAY_MS = 86_400_000;

/** Each customer's baskets, oldest first (baskets without a customer are left out). */
export function histories(baskets: readonly Basket[]): Map<string, Basket[]> {
  const out = new Map<string, Basket[]>();
  for (const b of [...baskets].sort((x, y) => x.ts - y.ts || (x.id < y.id ? -1 : 1))) {
    if (!b.user) continue;
    const list = out.get(b.user);
    if (list) list.push(b);
    else out.set(b.user, [b]);
  }
  return out;
}

/**
 * The orders a caller sends for a customer whose baskets are `history` (oldest first): newest
 * first, at most MAX_ORDERS orders and MAX_ORDER_IDS ids in all (an order that would go past it
 * is left out with the older ones; a single larger order keeps its first ids in sorted order).
 * Ids within an order are sorted, so the line order of the export plays no part.
 */
export function ordersOf(history: readonly Basket[]): string[][] {
  const out: string[][] = [];
  let ids = 0;
  for (let i = history.length - 1; i >= 0 && out.length < MAX_ORDERS; i--) {
    const items = [...new Set(history[i]!.items)].sort();
    if (ids + items.length > MAX_ORDER_IDS) {
      if (out.length === 0) out.push(items.slice(0, MAX_ORDER_IDS));
      break;
    }
    out.push(items);
    ids += items.length;
  }
  return out;
}

/** The newest `max` distinct items of `orders` (newest first): what a `recent` list holds. */
export function recentOf(orders: readonly string[][], max = 50): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const o of orders) {
    for (const id of o) {
      if (out.length >= max) return out;
      if (!seen.has(id)) {
        seen.add(id);
        out.push(id);
      }
    }
  }
  return out;
}

export interface NextBasketCase {
  readonly user: string;
  /** newest first, as a caller sends them */
  readonly orders: string[][];
  /** the items of the customer's first basket after the split that `known` accepts */
  readonly target: Set<string>;
  readonly segment?: string | undefined;
}

/** Customers with baskets on both sides of a split: their orders before it, their first basket after it. */
export function nextBasketCases(before: readonly Basket[], after: readonly Basket[], known: (id: string) => boolean): NextBasketCase[] {
  const past = histories(before);
  const first = new Map<string, Basket>();
  for (const b of [...after].sort((x, y) => x.ts - y.ts || (x.id < y.id ? -1 : 1))) {
    if (b.user && past.has(b.user) && !first.has(b.user)) first.set(b.user, b);
  }
  const out: NextBasketCase[] = [];
  for (const [user, next] of first) {
    const target = new Set(next.items.filter(known));
    if (target.size > 0) out.push({ user, orders: ordersOf(past.get(user)!), target, segment: next.segment });
  }
  return out;
}

export interface ItemFacts {
  /** logit of the share of a customer's later orders that held the item again, smoothed */
  readonly repurchase: (id: string) => number;
  /** log share of baskets holding it */
  readonly popularity: (id: string) => number;
  /** log of its share in the last `recentDays` over its share in all: rising (> 0) or falling */
  readonly trend: (id: string) => number;
}

/** How many later orders a repurchase share is shrunk with, toward the mean over all items. */
const REPURCHASE_PRIOR = 10;

/**
 * The per-item facts of the next-basket priors, from `baskets` (time split already applied):
 * how often its buyers buy it again, how popular it is, and whether it is rising.
 */
export function itemFactsOf(baskets: readonly Basket[], recentDays = 14): ItemFacts {
  const again = new Map<string, number>();
  const after = new Map<string, number>();
  for (const orders of histories(baskets).values()) {
    const seen = new Set<string>();
    for (const b of orders) {
      const now = new Set(b.items);
      for (const id of seen) {
        after.set(id, (after.get(id) ?? 0) + 1);
        if (now.has(id)) again.set(id, (again.get(id) ?? 0) + 1);
      }
      for (const id of now) seen.add(id);
    }
  }
  let num = 0;
  let den = 0;
  for (const v of again.values()) num += v;
  for (const v of after.values()) den += v;
  const mean = den > 0 ? Math.min(0.99, Math.max(0.01, num / den)) : 0.1;

  const newest = baskets.reduce((m, b) => Math.max(m, b.ts), 0);
  const all = new Map<string, number>();
  const recent = new Map<string, number>();
  let recentBaskets = 0;
  for (const b of baskets) {
    const isRecent = newest - b.ts < recentDays * DAY_MS;
    if (isRecent) recentBaskets++;
    for (const id of new Set(b.items)) {
      all.set(id, (all.get(id) ?? 0) + 1);
      if (isRecent) recent.set(id, (recent.get(id) ?? 0) + 1);
    }
  }
  const share = (m: Map<string, number>, total: number, id: string) => Math.log(((m.get(id) ?? 0) + 1) / (total + 1));
  return {
    repurchase: (id) => {
      const p = ((again.get(id) ?? 0) + REPURCHASE_PRIOR * mean) / ((after.get(id) ?? 0) + REPURCHASE_PRIOR);
      return Math.log(p / (1 - p));
    },
    popularity: (id) => share(all, baskets.length, id),
    trend: (id) => share(recent, recentBaskets, id) - share(all, baskets.length, id),
  };
}
