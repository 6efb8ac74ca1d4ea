/**
 * CampaignLedger: one Durable Object per campaign, the single writer of its spend and of the
 * impressions each user has seen. A DO, not KV counters: KV allows one write per key per
 * second and replicates eventually, so two colos would both spend the "last" dollar; a DO
 * serializes every notice for its campaign, so budgets and caps are exact at the source.
 *
 * Rows are keyed by decision id, so a win notice and a billing notice for the same bid (or an
 * exchange retrying either) count once. An alarm prunes rows past the longest window we read.
 */
import { DurableObject } from 'cloudflare:workers';

const DAY_MS = 86_400_000;
const KEEP_MS = 31 * DAY_MS;

export interface LedgerEntry {
  readonly decisionId: string;
  /** ms since epoch */
  readonly ts: number;
  /** spend in the campaign currency (the CPM price / 1000) */
  readonly cost: number;
  readonly user: string | null;
}

export interface LedgerSnapshot {
  readonly day: number;
  readonly spent: number;
  readonly total: number;
  /** impressions of `user` within the asked window (0 when no user was asked) */
  readonly seen: number;
}

export class CampaignLedger extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS imps (
        decision TEXT PRIMARY KEY, ts INTEGER NOT NULL, cost REAL NOT NULL, user TEXT)`);
      this.ctx.storage.sql.exec('CREATE INDEX IF NOT EXISTS imps_ts ON imps(ts)');
      this.ctx.storage.sql.exec('CREATE INDEX IF NOT EXISTS imps_user ON imps(user, ts)');
      this.ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS totals (k TEXT PRIMARY KEY, v REAL NOT NULL)');
    });
  }

  /** Records an impression; false when this decision was already counted. */
  async record(e: LedgerEntry): Promise<boolean> {
    const sql = this.ctx.storage.sql;
    const inserted = sql.exec('INSERT OR IGNORE INTO imps (decision, ts, cost, user) VALUES (?, ?, ?, ?)', e.decisionId, e.ts, e.cost, e.user)
      .rowsWritten > 0;
    if (inserted) {
      sql.exec("INSERT INTO totals (k, v) VALUES ('total', ?) ON CONFLICT(k) DO UPDATE SET v = v + excluded.v", e.cost);
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + DAY_MS);
    }
    return inserted;
  }

  /** Spend today (UTC) and all-time; impressions of `user` in the last `windowMs`. */
  async snapshot(now: number, user: string | null, windowMs: number): Promise<LedgerSnapshot> {
    const sql = this.ctx.storage.sql;
    const day = Math.floor(now / DAY_MS);
    const spent = sql.exec<{ s: number | null }>('SELECT SUM(cost) AS s FROM imps WHERE ts >= ?', day * DAY_MS).one().s ?? 0;
    const total = sql.exec<{ v: number }>("SELECT v FROM totals WHERE k = 'total'").toArray()[0]?.v ?? 0;
    const seen = user === null ? 0
      : sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM imps WHERE user = ? AND ts >= ?', user, now - windowMs).one().n;
    return { day, spent, total, seen };
  }

  override async alarm(): Promise<void> {
    this.ctx.storage.sql.exec('DELETE FROM imps WHERE ts < ?', Date.now() - KEEP_MS);
    await this.ctx.storage.setAlarm(Date.now() + DAY_MS);
  }
}
