/**
 * What a campaign's ledger (campaign-ledger.ts) keeps besides booked spend: the bids still
 * waiting for their notices (reservations), and the day-by-day counts its stats report. SQL on
 * the ledger's own storage, in functions the Durable Object calls, so its class stays small.
 *
 * **Reservations.** Every bid reserves its price (campaign currency, what a win can cost at
 * most: notices book at most our bid) until its notice settles it: a win or billing notice
 * books the spend and drops the reservation, a loss notice drops it, and otherwise it lapses
 * `RESERVATION_MS` after the bid. Budgets count spend plus what is reserved (pacing.ts
 * `budgetLeft`), so an `asap` campaign stops bidding while the money it may still owe is in
 * flight, instead of when the notices arrive. The lapse is short on purpose: exchanges call a
 * win notice within seconds and a billing notice when the ad renders, and a bid whose notice
 * never comes (most lost bids, where the exchange sends no loss notice) must give its money
 * back soon. A notice later than that still books: that late spend is outside the bound
 * (docs/bidding.md, "Budget safety").
 *
 * **Stats.** One row per UTC day and exchange: bids (and the sums of their prices and values),
 * billing notices (impressions), clicks, and the shading savings on wins (value − price paid,
 * known while the bid's reservation is held). Wins and spend per day are read from the booked
 * rows themselves, so they are always what was booked. Both are kept `KEEP_DAYS`.
 */

import { STATS_DAYS } from '../../core/bidding/campaign-stats.ts';

export const RESERVATION_MS = 5 * 60_000;
/** days of rows kept: the booked rows' own window */
export const KEEP_DAYS = STATS_DAYS;
const DAY_MS = 86_400_000;

/** A bid to hold against the budget until its notice (or RESERVATION_MS). */
export interface Reservation {
  readonly decisionId: string;
  /** ms since epoch */
  readonly ts: number;
  /** the price bid, campaign currency (the CPM / 1000): what it may cost */
  readonly cost: number;
  /** the campaign's value of the impression, same unit: what it was worth (shading savings) */
  readonly value: number;
  readonly exchange: string;
}

/** One day's counts for one exchange (money in the campaign currency, not CPM). */
export interface DayRow {
  readonly day: number;
  readonly exchange: string;
  readonly bids: number;
  /** the sums of the bids' prices and values */
  readonly bidSpend: number;
  readonly bidValue: number;
  readonly wins: number;
  readonly spend: number;
  /** bids with a billing notice: the ad was shown (OpenRTB `burl`) */
  readonly impressions: number;
  readonly clicks: number;
  /** Σ (value − price paid), and Σ value, over the wins whose value was known (their reservation was held) */
  readonly saved: number;
  readonly wonValue: number;
}

export function bookSchema(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS reservations (
    decision TEXT PRIMARY KEY, ts INTEGER NOT NULL, expires INTEGER NOT NULL, cost REAL NOT NULL, value REAL NOT NULL, exchange TEXT NOT NULL)`);
  sql.exec('CREATE INDEX IF NOT EXISTS reservations_expires ON reservations(expires)');
  sql.exec(`CREATE TABLE IF NOT EXISTS days (
    day INTEGER NOT NULL, exchange TEXT NOT NULL, bids INTEGER NOT NULL DEFAULT 0, bid REAL NOT NULL DEFAULT 0,
    value REAL NOT NULL DEFAULT 0, impressions INTEGER NOT NULL DEFAULT 0, clicks INTEGER NOT NULL DEFAULT 0,
    saved REAL NOT NULL DEFAULT 0, won_value REAL NOT NULL DEFAULT 0, PRIMARY KEY (day, exchange))`);
  // what was counted once per bid (a billing notice, a click), so retries count once
  sql.exec(
    'CREATE TABLE IF NOT EXISTS counted (kind TEXT NOT NULL, decision TEXT NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY (kind, decision))',
  );
}

const dayOf = (ts: number) => Math.floor(ts / DAY_MS);

function addToDay(sql: SqlStorage, ts: number, exchange: string, column: string, amount: number): void {
  sql.exec(
    `INSERT INTO days (day, exchange, ${column}) VALUES (?, ?, ?) ON CONFLICT(day, exchange) DO UPDATE SET ${column} = ${column} + excluded.${column}`,
    dayOf(ts),
    exchange,
    amount,
  );
}

/** Holds each bid against the budget (a bid already booked by its notice holds nothing) and counts it. */
export function reserve(sql: SqlStorage, bids: readonly Reservation[], now: number): void {
  sql.exec('DELETE FROM reservations WHERE expires <= ?', now);
  for (const b of bids) {
    sql.exec(
      `INSERT OR IGNORE INTO reservations (decision, ts, expires, cost, value, exchange)
       SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM imps WHERE decision = ?)`,
      b.decisionId,
      b.ts,
      b.ts + RESERVATION_MS,
      b.cost,
      b.value,
      b.exchange,
      b.decisionId,
    );
    const day = dayOf(b.ts);
    sql.exec(
      `INSERT INTO days (day, exchange, bids, bid, value) VALUES (?, ?, 1, ?, ?)
       ON CONFLICT(day, exchange) DO UPDATE SET bids = bids + 1, bid = bid + excluded.bid, value = value + excluded.value`,
      day,
      b.exchange,
      b.cost,
      b.value,
    );
  }
}

/** A win or billing notice booked the bid: its reservation goes, and what shading saved on it is counted. */
export function settle(sql: SqlStorage, decision: string, cost: number, ts: number): void {
  const held = sql
    .exec<{ value: number; exchange: string }>('DELETE FROM reservations WHERE decision = ? RETURNING value, exchange', decision)
    .toArray()[0];
  if (held === undefined) return;
  addToDay(sql, ts, held.exchange, 'saved', Math.max(0, held.value - cost));
  addToDay(sql, ts, held.exchange, 'won_value', held.value);
}

/** A loss notice: the bid will cost nothing. */
export function release(sql: SqlStorage, decision: string): boolean {
  return sql.exec('DELETE FROM reservations WHERE decision = ?', decision).rowsWritten > 0;
}

/** What the bids in flight may still cost. */
export function reservedAt(sql: SqlStorage, now: number): number {
  return sql.exec<{ s: number | null }>('SELECT SUM(cost) AS s FROM reservations WHERE expires > ?', now).one().s ?? 0;
}

/** Counts a bid's billing notice (an impression) or click once, however often it comes. */
export function countOnce(sql: SqlStorage, kind: 'impressions' | 'clicks', decision: string, exchange: string, ts: number): boolean {
  const fresh = sql.exec('INSERT OR IGNORE INTO counted (kind, decision, ts) VALUES (?, ?, ?)', kind, decision, ts).rowsWritten > 0;
  if (fresh) addToDay(sql, ts, exchange, kind, 1);
  return fresh;
}

/** Every day × exchange row from `fromDay` on, the wins and spend from the booked rows. */
export function dayRows(sql: SqlStorage, fromDay: number, unknownExchange: string): DayRow[] {
  const rows = new Map<string, { -readonly [K in keyof DayRow]: DayRow[K] }>();
  const row = (day: number, exchange: string) => {
    const k = `${day}|${exchange}`;
    let r = rows.get(k);
    if (r === undefined) {
      r = { day, exchange, bids: 0, bidSpend: 0, bidValue: 0, wins: 0, spend: 0, impressions: 0, clicks: 0, saved: 0, wonValue: 0 };
      rows.set(k, r);
    }
    return r;
  };
  for (const d of sql.exec<{
    day: number;
    exchange: string;
    bids: number;
    bid: number;
    value: number;
    impressions: number;
    clicks: number;
    saved: number;
    won_value: number;
  }>('SELECT * FROM days WHERE day >= ?', fromDay)) {
    Object.assign(row(d.day, d.exchange), {
      bids: d.bids,
      bidSpend: d.bid,
      bidValue: d.value,
      impressions: d.impressions,
      clicks: d.clicks,
      saved: d.saved,
      wonValue: d.won_value,
    });
  }
  const booked = sql.exec<{ day: number; x: string; n: number; s: number }>(
    `SELECT ts / ${DAY_MS} AS day, COALESCE(exchange, ?) AS x, COUNT(*) AS n, SUM(cost) AS s FROM imps WHERE ts >= ? GROUP BY day, x`,
    unknownExchange,
    fromDay * DAY_MS,
  );
  for (const b of booked) Object.assign(row(b.day, b.x), { wins: b.n, spend: b.s });
  return [...rows.values()].sort((a, b) => a.day - b.day || (a.exchange < b.exchange ? -1 : 1));
}

/** Drops what no report or budget reads any more. */
export function pruneBook(sql: SqlStorage, now: number): void {
  sql.exec('DELETE FROM reservations WHERE expires <= ?', now);
  sql.exec('DELETE FROM days WHERE day < ?', dayOf(now) - KEEP_DAYS);
  sql.exec('DELETE FROM counted WHERE ts < ?', now - KEEP_DAYS * DAY_MS);
}
