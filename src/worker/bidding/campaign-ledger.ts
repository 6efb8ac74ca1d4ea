/**
 * CampaignLedger: one Durable Object per campaign, the single writer of its spend and of the
 * impressions each user has seen. A DO, not KV counters: KV allows one write per key per
 * second and replicates eventually, so two colos would both spend the "last" dollar; a DO
 * serializes every notice for its campaign, so budgets and caps are exact at the source.
 *
 * Rows are keyed by decision id, so a win notice and a billing notice for the same bid (or an
 * exchange retrying either) count once, at the highest price any of them named (`record`). An alarm prunes rows past the longest window we read.
 * Each row names the exchange the bid was made for, and all-time spend and impressions are
 * kept per exchange too (`byExchange`); rows booked before exchanges were named count for
 * `unknown`.
 */
import { DurableObject } from 'cloudflare:workers';
import { UNKNOWN_EXCHANGE } from '../../core/bidding/exchange-keys.ts';
import {
  bookSchema,
  countOnce,
  dayRows,
  pruneBook,
  release,
  reserve,
  reservedAt,
  settle,
  type DayRow,
  type Reservation,
} from './ledger-book.ts';

const DAY_MS = 86_400_000;
const KEEP_MS = 31 * DAY_MS;

export interface LedgerEntry {
  readonly decisionId: string;
  /** ms since epoch */
  readonly ts: number;
  /** spend in the campaign currency (the CPM price / 1000) */
  readonly cost: number;
  readonly user: string | null;
  /** the exchange the bid was made for (`unknown` for notices signed before exchanges were named) */
  readonly exchange: string;
}

/** One exchange's share of a campaign: spend and impressions today (UTC) and all-time. */
export interface ExchangeTotals {
  readonly spent: number;
  readonly wins: number;
  readonly total: number;
  readonly totalWins: number;
}

export interface LedgerSnapshot {
  readonly day: number;
  readonly spent: number;
  readonly total: number;
  /** impressions of `user` within the asked window (0 when no user was asked) */
  readonly seen: number;
  /** what the bids still waiting for their notices may cost (ledger-book.ts) */
  readonly reserved: number;
}

/** Creates the ledger's tables, or brings an older ledger's up to date. */
export function ledgerSchema(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS imps (
    decision TEXT PRIMARY KEY, ts INTEGER NOT NULL, cost REAL NOT NULL, user TEXT, exchange TEXT)`);
  // a ledger from before rows named their exchange: its rows stay NULL, read as `unknown`
  const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('imps')").toArray();
  if (!columns.some((c) => c.name === 'exchange')) sql.exec('ALTER TABLE imps ADD COLUMN exchange TEXT');
  sql.exec('CREATE INDEX IF NOT EXISTS imps_ts ON imps(ts)');
  sql.exec('CREATE INDEX IF NOT EXISTS imps_user ON imps(user, ts)');
  sql.exec('CREATE TABLE IF NOT EXISTS totals (k TEXT PRIMARY KEY, v REAL NOT NULL)');
  bookSchema(sql);
}

export class CampaignLedger extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => ledgerSchema(this.ctx.storage.sql));
  }

  /**
   * Records an impression, or raises its cost; returns the spend it added (0 when the decision
   * was already booked at this cost or more). A bid's price comes from the exchange's macros,
   * after the signature, so whoever fires a notice URL first could name any price (`price=0`):
   * the highest price seen for a decision is booked (notice-outcome.ts caps it at our bid), and
   * a later, higher notice adds only the difference. A bid counts one impression however many
   * notices it gets.
   */
  async record(e: LedgerEntry): Promise<number> {
    const sql = this.ctx.storage.sql;
    settle(sql, e.decisionId, e.cost, e.ts); // its reservation, if still held, gives way to the booking
    const add = 'INSERT INTO totals (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = v + excluded.v';
    const row = sql
      .exec<{ cost: number; exchange: string | null }>('SELECT cost, exchange FROM imps WHERE decision = ?', e.decisionId)
      .toArray()[0];
    if (row === undefined) {
      sql.exec(
        'INSERT INTO imps (decision, ts, cost, user, exchange) VALUES (?, ?, ?, ?, ?)',
        e.decisionId,
        e.ts,
        e.cost,
        e.user,
        e.exchange,
      );
      sql.exec(add, 'total', e.cost);
      sql.exec(add, `spend:${e.exchange}`, e.cost);
      sql.exec(add, `wins:${e.exchange}`, 1);
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + DAY_MS);
      return e.cost;
    }
    if (!(e.cost > row.cost)) return 0;
    const more = e.cost - row.cost;
    // the row's day and exchange stay: the bid was made once, for one exchange
    sql.exec('UPDATE imps SET cost = ? WHERE decision = ?', e.cost, e.decisionId);
    sql.exec(add, 'total', more);
    sql.exec(add, `spend:${row.exchange ?? UNKNOWN_EXCHANGE}`, more);
    return more;
  }

  /** Spend today (UTC) and all-time; impressions of `user` in the last `windowMs`. */
  async snapshot(now: number, user: string | null, windowMs: number): Promise<LedgerSnapshot> {
    const sql = this.ctx.storage.sql;
    const day = Math.floor(now / DAY_MS);
    const spent = sql.exec<{ s: number | null }>('SELECT SUM(cost) AS s FROM imps WHERE ts >= ?', day * DAY_MS).one().s ?? 0;
    const total = sql.exec<{ v: number }>("SELECT v FROM totals WHERE k = 'total'").toArray()[0]?.v ?? 0;
    const seen =
      user === null
        ? 0
        : sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM imps WHERE user = ? AND ts >= ?', user, now - windowMs).one().n;
    return { day, spent, total, seen, reserved: reservedAt(sql, now) };
  }

  /** Holds bids against the budget until their notices (ledger-book.ts); the spend as it now stands. */
  async reserve(bids: readonly Reservation[], now: number): Promise<LedgerSnapshot> {
    reserve(this.ctx.storage.sql, bids, now);
    await this.keepPruning();
    return this.snapshot(now, null, 0);
  }

  /** A loss notice: the bid's reservation goes. */
  async release(decision: string): Promise<boolean> {
    return release(this.ctx.storage.sql, decision);
  }

  /** Counts a bid's billing notice (an impression) or click, once per bid. */
  async count(kind: 'impressions' | 'clicks', decision: string, exchange: string, ts: number): Promise<boolean> {
    const fresh = countOnce(this.ctx.storage.sql, kind, decision, exchange, ts);
    if (fresh) await this.keepPruning();
    return fresh;
  }

  /** The day-by-day counts from `fromDay` (days since epoch, UTC) on. */
  async days(fromDay: number): Promise<DayRow[]> {
    return dayRows(this.ctx.storage.sql, fromDay, UNKNOWN_EXCHANGE);
  }

  private pruning = false;

  /** A ledger that only ever sees bids still needs its daily prune. */
  private async keepPruning(): Promise<void> {
    if (this.pruning) return;
    this.pruning = true;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + DAY_MS);
  }

  /** Spend and impressions per exchange, today (UTC) and all-time. */
  async byExchange(now: number): Promise<Record<string, ExchangeTotals>> {
    const sql = this.ctx.storage.sql;
    const day = Math.floor(now / DAY_MS);
    const out: Record<string, { spent: number; wins: number; total: number; totalWins: number }> = {};
    const of = (x: string) => (out[x] ??= { spent: 0, wins: 0, total: 0, totalWins: 0 });
    for (const r of sql.exec<{ k: string; v: number }>("SELECT k, v FROM totals WHERE k LIKE 'spend:%' OR k LIKE 'wins:%'")) {
      const colon = r.k.indexOf(':');
      const x = of(r.k.slice(colon + 1));
      if (r.k.startsWith('spend:')) x.total = r.v;
      else x.totalWins = r.v;
    }
    const today = sql.exec<{ x: string; s: number; n: number }>(
      'SELECT COALESCE(exchange, ?) AS x, SUM(cost) AS s, COUNT(*) AS n FROM imps WHERE ts >= ? GROUP BY x',
      UNKNOWN_EXCHANGE,
      day * DAY_MS,
    );
    for (const r of today) Object.assign(of(r.x), { spent: r.s, wins: r.n });
    return out;
  }

  override async alarm(): Promise<void> {
    this.ctx.storage.sql.exec('DELETE FROM imps WHERE ts < ?', Date.now() - KEEP_MS);
    pruneBook(this.ctx.storage.sql, Date.now());
    await this.ctx.storage.setAlarm(Date.now() + DAY_MS);
  }
}
