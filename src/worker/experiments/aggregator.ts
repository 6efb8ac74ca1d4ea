/**
 * One Durable Object per experiment: the single writer of its live posterior.
 *
 * Decision records (exposures) and outcome events arrive in batches from the log consumer
 * (`forwardToExperiments`). An exposure counts an impression for its arm and is kept as
 * "pending" for the attribution window; the first goal outcome within the window (by decision
 * id, else the visitor's latest exposure) counts one conversion. Every `publishSeconds` while
 * anything changed, an alarm computes the allocation and writes a posterior snapshot to KV
 * (model `exp.<key>`), which the Worker serves from like any other model.
 *
 * Redelivered batches are harmless: exposures are keyed by decision id, and a decision converts
 * at most once. The contextual model learns y = 1 at conversion and y = 0 when the window closes
 * (or when its exposure is evicted). Pending exposures and parked goals are capped per experiment,
 * oldest out first, and the evictions counted (row-caps.ts): both come from open endpoints.
 */
import { DurableObject } from 'cloudflare:workers';
import { allocate, probabilityBest } from '../../core/bandits/allocation.ts';
import { newLinearThompson, updateLinearThompson, type LinearThompsonModel } from '../../core/bandits/linear-thompson.ts';
import { encodeSnapshot } from '../../core/bandits/snapshot.ts';
import { DEFAULTS, emptyCounts, type ArmCounts } from '../../core/bandits/types.ts';
import type { DecisionRecord } from '../../core/decision-record.ts';
import { excludePaused, isGoal, pausedArms, type Experiment } from '../../core/experiments/experiment.ts';
import { guardrailPause } from '../../core/experiments/guardrail-pause.ts';
import { sequentialResults, type SequentialMemory, type SequentialResults } from '../../core/experiments/fixed-results.ts';
import { createFeatureVector, extractFeatures, type FeatureVector } from '../../core/features.ts';
import { DEFAULT_SITE } from '../../core/log-layout.ts';
import { manifestKey, modelKey, siteDataPrefix } from '../../core/store-keys.ts';
import { prefixedKv } from '../shared/kv-view.ts';
import { murmur3 } from '../../core/murmur3.ts';
import type { LogRecord, OutcomeEvent } from '../../core/outcome-event.ts';
import { countRows, deletedRows, evictOldest, ROW_CAPS, type CappedTable, type RowCaps } from './row-caps.ts';
import { LiveTables, type LiveSnapshot } from './live-tables.ts';
import { saveExperiment, snapshotName } from './store.ts';
import { log } from '../shared/log.ts';
import { kvOf } from '../shared/bindings.ts';

/** Snapshots are superseded within seconds; old ones expire instead of piling up in KV. */
const SNAPSHOT_TTL_SECONDS = 3600;
/** A live test republishes at least this often, so its active snapshot never reaches the TTL. */
const HEARTBEAT_MS = 20 * 60_000;
const HISTORY_ROWS = 2000;

export interface HistoryPoint {
  readonly t: number;
  readonly allocation: number[];
  readonly probabilityBest: number[];
  readonly impressions: number[];
  readonly conversions: number[];
}

export interface AggregatorStats {
  readonly arms: string[];
  readonly impressions: number[];
  readonly conversions: number[];
  readonly pending: number;
  /** goals parked until their exposure arrives */
  readonly early: number;
  /** rows dropped to hold the caps since the counts were last reset (row-caps.ts) */
  readonly evicted: Record<CappedTable, number>;
  readonly snapshot: { readonly version: string; readonly at: number } | null;
  readonly history: HistoryPoint[];
  /** hourly periods, segment cells, guardrail counts, render failures (live-tables.ts) */
  readonly live: LiveSnapshot | null;
  /** a fixed split's always-valid read-out at this look (fixed-results.ts); null for bandits */
  readonly sequential: SequentialResults | null;
  /** when the guardrails were last checked (ms since epoch; 0: never) */
  readonly guardrailsCheckedAt: number;
}

export interface IngestSummary {
  readonly exposures: number;
  readonly conversions: number;
  readonly ignored: number;
}

interface State {
  counts: ArmCounts;
  model: LinearThompsonModel | null;
  seq: number;
  published: { version: string; at: number } | null;
  evicted: Record<CappedTable, number>;
  /** the always-valid read-out's running minima and intersections (fixed-results.ts); null since the counts last reset */
  seqMemory: SequentialMemory | null;
  guardCheckedAt: number;
}

const noEvictions = (): Record<CappedTable, number> => ({ pending: 0, early: 0 });

export class ExperimentAggregator extends DurableObject<Env> {
  private exp: Experiment | null = null;
  private state: State = {
    counts: emptyCounts(0),
    model: null,
    seq: 0,
    published: null,
    evicted: noEvictions(),
    seqMemory: null,
    guardCheckedAt: 0,
  };
  private readonly live: LiveTables;
  private dirty = false;
  /** rows in each capped table, counted once at start and kept up to date by every write */
  private rows: Record<CappedTable, number> = { pending: 0, early: 0 };
  /** the caps (row-caps.ts); a test lowers them on its instance to reach them with few rows */
  caps: RowCaps = ROW_CAPS;
  private warnedAt = 0;
  private readonly sql: SqlStorage;
  /** the site whose test this is (its snapshots are written under the site's keys) */
  private site: string = DEFAULT_SITE;
  private readonly fv: FeatureVector = createFeatureVector();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.live = new LiveTables(this.sql);
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT);
        CREATE TABLE IF NOT EXISTS pending (id TEXT PRIMARY KEY, visitor TEXT, arm INTEGER, ts INTEGER, converted INTEGER, fh BLOB, fvals BLOB);
        CREATE INDEX IF NOT EXISTS pending_visitor ON pending (visitor, ts);
        CREATE INDEX IF NOT EXISTS pending_ts ON pending (ts, id);
        CREATE TABLE IF NOT EXISTS early (id TEXT PRIMARY KEY, decision TEXT, visitor TEXT, ts INTEGER);
        CREATE INDEX IF NOT EXISTS early_decision ON early (decision);
        CREATE INDEX IF NOT EXISTS early_visitor ON early (visitor, ts);
        CREATE INDEX IF NOT EXISTS early_ts ON early (ts, id);
        CREATE TABLE IF NOT EXISTS history (t INTEGER PRIMARY KEY, point TEXT);`);
      const rows = this.sql.exec<{ k: string; v: string | ArrayBuffer }>('SELECT k, v FROM kv').toArray();
      const kv = new Map(rows.map((r) => [r.k, r.v]));
      const text = (k: string) => kv.get(k) as string | undefined;
      if (kv.has('exp')) this.exp = JSON.parse(text('exp')!);
      this.site = text('site') ?? DEFAULT_SITE;
      if (kv.has('state'))
        this.state = reviveState(
          JSON.parse(text('state')!),
          kv.get('mean') as ArrayBuffer | undefined,
          kv.get('precision') as ArrayBuffer | undefined,
        );
      this.dirty = text('dirty') === '1';
      this.rows = { pending: countRows(this.sql, 'pending'), early: countRows(this.sql, 'early') };
    });
  }

  /**
   * An admin write of the experiment, checked against the version it was built from (`from`,
   * null for a new experiment). Every write of this experiment passes through this one object,
   * so two admins editing at once cannot both build version n + 1 from n (one edit lost, and
   * the other's immutable copy overwritten): the second is answered with what this object
   * holds. Taken as well: the config it already holds (a repeated request); a write built from
   * a version newer than it holds (KV was ahead of it: written by hand, or by an older release
   * that saved KV first); and a new experiment where it holds one created over a minute ago
   * (its KV copy was deleted by hand, or never saved), or the same config (a repeated create).
   */
  async commit(
    next: Experiment,
    from: number | null,
    site = DEFAULT_SITE,
  ): Promise<{ ok: true; holds: Experiment } | { ok: false; holds: Experiment }> {
    // whose KV keys the snapshots go to: each site's tests have aggregators of their own (sites/site-env.ts)
    if (site !== this.site) {
      this.site = site;
      this.sql.exec('INSERT OR REPLACE INTO kv VALUES (?, ?)', 'site', site);
    }
    const have = this.exp;
    // the check and `configure`'s first line run without a break between them: no other call
    // can take the version in between
    if (have !== null && !takes(have, next, from, Date.now())) return { ok: false, holds: have };
    const same = have !== null && from === null && sameConfig(have, next);
    if (same) return { ok: true, holds: have };
    await this.configure(next);
    return { ok: true, holds: next };
  }

  /** Stores the experiment (after every admin write); resets the counts if the arms changed. */
  async configure(exp: Experiment): Promise<void> {
    const before = this.exp;
    this.exp = exp;
    const armsChanged = !before || before.arms.map((a) => a.key).join() !== exp.arms.map((a) => a.key).join();
    if (armsChanged || before.algorithm.name !== exp.algorithm.name) {
      this.state = {
        counts: emptyCounts(exp.arms.length),
        seq: this.state.seq,
        published: null,
        evicted: noEvictions(),
        model: exp.algorithm.name === 'linear-thompson' ? newLinearThompson(exp.arms.length, exp.algorithm.bits ?? DEFAULTS.bits) : null,
        seqMemory: null,
        guardCheckedAt: 0,
      };
      this.live.reset();
      this.sql.exec('DELETE FROM pending');
      this.sql.exec('DELETE FROM early');
      this.rows = { pending: 0, early: 0 };
      this.sql.exec('DELETE FROM history');
    }
    this.sql.exec('INSERT OR REPLACE INTO kv VALUES (?, ?)', 'exp', JSON.stringify(exp));
    // A launched test gets its prior snapshot at once, so the first visitors see the configured policy.
    if (exp.status === 'running' && (this.state.published === null || allocationChanged(before, exp))) {
      await this.publish(Date.now());
      if ((await this.ctx.storage.getAlarm()) === null) await this.scheduleNext(Date.now());
    } else this.persist();
  }

  /**
   * `joined`: outcomes that name no test, sent because this test watches their name (forward.ts);
   * taken after `records`, so an exposure in the same batch is there first, and never parked (most
   * are another test's, or nobody's).
   */
  async ingest(records: LogRecord[], joined: OutcomeEvent[] = []): Promise<IngestSummary> {
    const exp = this.exp;
    let exposures = 0;
    let conversions = 0;
    let ignored = 0;
    if (!exp || exp.status === 'draft' || exp.status === 'archived')
      return { exposures, conversions, ignored: records.length + joined.length };
    const take = (r: LogRecord, park: boolean) => {
      if (r.type === 'decision') this.expose(exp, r) ? exposures++ : ignored++;
      else if (r.name === 'render_error') this.renderFailed(exp, r);
      else if (r.name === 'impression' && exp.exposure === 'viewable') this.seen(exp, r) ? exposures++ : ignored++;
      else this.convert(exp, r, park) ? conversions++ : ignored++;
    };
    for (const r of records) take(r, true);
    for (const o of joined) take(o, false);
    this.live.flush();
    const trimmed = this.trim(exp);
    // the posterior moved: counts, or a contextual model that learned from evicted exposures
    const changed = exposures + conversions > 0 || (trimmed && this.state.model !== null);
    if (changed) this.dirty = true;
    if (changed || trimmed) this.persist(); // the eviction counts too
    if (changed) await this.scheduleAlarm(Date.now() + exp.publishSeconds * 1000);
    else if (this.rows.early > 0 && (await this.ctx.storage.getAlarm()) === null) await this.scheduleNext(Date.now()); // parked goals expire too
    return { exposures, conversions, ignored };
  }

  /**
   * `seen`: a held decision of a test whose exposure is the viewable impression, now seen (its
   * fresh draw was counted when it was served).
   */
  private expose(exp: Experiment, r: DecisionRecord, seen = false): boolean {
    const arm = exp.arms.findIndex((a) => a.key === r.action);
    if (arm < 0 || (exp.status !== 'running' && exp.status !== 'paused')) return false;
    const k = exp.arms.length;
    // The SRM check counts fresh draws before the dedup below (srm.ts). A non-sticky fixed split
    // draws from the visitor's hash, so its repeats are the same draw: counted once per exposure.
    const hashed = exp.algorithm.name === 'fixed' && !exp.sticky;
    if (r.sticky !== true && !hashed && !seen) this.live.draw(r, arm, k);
    if (exp.exposure === 'viewable' && !seen) {
      this.live.hold(r); // an exposure once the snippet says the slot was seen
      return false;
    }
    // One exposure per visitor and arm per attribution window: a returning sticky visitor seeing
    // the same arm is the same trial until they convert or the window closes (else repeat views
    // would shrink the rate). Another arm (a non-sticky test, a re-randomized epoch) is a new one.
    const open = this.sql
      .exec(
        'SELECT 1 FROM pending WHERE visitor = ? AND arm = ? AND converted = 0 AND ts > ? LIMIT 1',
        r.visitor,
        arm,
        r.ts - exp.attributionWindowSeconds * 1000,
      )
      .toArray();
    if (open.length > 0) return false;
    let fh: ArrayBuffer | null = null;
    let fvals: ArrayBuffer | null = null;
    if (this.state.model) {
      const fv = extractFeatures(r.context, this.fv);
      fh = fv.hashes.slice(0, fv.length).buffer;
      fvals = fv.values.slice(0, fv.length).buffer;
    }
    const c = this.sql.exec('INSERT OR IGNORE INTO pending VALUES (?, ?, ?, ?, 0, ?, ?)', r.id, r.visitor, arm, r.ts, fh, fvals);
    if (c.rowsWritten === 0) return false; // a redelivered exposure
    this.rows.pending++;
    this.state.counts.impressions[arm]! += 1;
    if (hashed && r.sticky !== true) this.live.draw(r, arm, k);
    this.live.exposed(exp, r, arm);
    // Queues do not keep order: a goal for this exposure may have arrived first and been parked.
    const window = exp.attributionWindowSeconds * 1000;
    const early = this.sql
      .exec<{ id: string; ts: number }>(
        'SELECT id, ts FROM early WHERE decision = ? OR (visitor = ? AND ts >= ? AND ts <= ?) ORDER BY ts LIMIT 1',
        r.id,
        r.visitor,
        r.ts,
        r.ts + window,
      )
      .toArray()[0];
    if (early) {
      this.sql.exec('DELETE FROM early WHERE id = ?', early.id);
      this.rows.early--;
      this.sql.exec('UPDATE pending SET converted = 1 WHERE id = ?', r.id);
      this.state.counts.conversions[arm]! += 1;
      this.live.converted(r.id, arm, early.ts, k);
      if (this.state.model) this.learn(arm, fh, fvals, 1);
    }
    return true;
  }

  /** The snippet's viewable impression of a held decision: now it is an exposure. */
  private seen(exp: Experiment, o: OutcomeEvent): boolean {
    const held = o.decisionId ? this.live.release(o.decisionId) : null;
    return held !== null && this.expose(exp, held, true);
  }

  /** A render failure the snippet reported, counted for the arm its decision served. */
  private renderFailed(exp: Experiment, o: OutcomeEvent): void {
    const byDecision = o.decisionId
      ? this.sql.exec<{ arm: number }>('SELECT arm FROM pending WHERE id = ?', o.decisionId).toArray()[0]?.arm
      : undefined;
    const arm = byDecision ?? exp.arms.findIndex((a) => a.key === o.variant);
    if (arm >= 0) this.live.renderFailed(arm);
  }

  private convert(exp: Experiment, o: OutcomeEvent, park = true): boolean {
    const goal = isGoal(exp.goals, o.name, o.goal);
    const guards = (exp.guardrails ?? []).filter((g) => g.goal === o.name || g.goal === o.goal).map((g) => g.goal);
    if (!goal && guards.length === 0) return false;
    // an event from a slot not yet seen (a click on it, before its impression beacon) shows it was
    if (exp.exposure === 'viewable' && o.decisionId) this.seen(exp, o);
    const window = exp.attributionWindowSeconds * 1000;
    type Row = { id: string; arm: number; ts: number; converted: number; fh: ArrayBuffer | null; fvals: ArrayBuffer | null };
    // By decision id when given (a repeat view's id is not an exposure: fall through to the
    // visitor), then the visitor's latest exposure: to the arm the event names when it names one
    // (a visitor may have been shown several arms), else any.
    const arm = o.variant === undefined ? -1 : exp.arms.findIndex((a) => a.key === o.variant);
    const cols = 'SELECT id, arm, ts, converted, fh, fvals FROM pending';
    const row =
      (o.decisionId ? this.sql.exec<Row>(`${cols} WHERE id = ?`, o.decisionId).toArray()[0] : undefined) ??
      (o.visitor && arm >= 0
        ? this.sql
            .exec<Row>(`${cols} WHERE visitor = ? AND arm = ? AND ts <= ? ORDER BY ts DESC LIMIT 1`, o.visitor, arm, o.ts)
            .toArray()[0]
        : undefined) ??
      (o.visitor && arm < 0
        ? this.sql.exec<Row>(`${cols} WHERE visitor = ? AND ts <= ? ORDER BY ts DESC LIMIT 1`, o.visitor, o.ts).toArray()[0]
        : undefined);
    if (!row) {
      // Possibly ahead of its exposure (queue batches are unordered): park it for the window.
      if (
        goal &&
        park &&
        (o.decisionId || o.visitor) &&
        this.sql.exec('INSERT OR IGNORE INTO early VALUES (?, ?, ?, ?)', o.id, o.decisionId ?? null, o.visitor ?? null, o.ts).rowsWritten >
          0
      ) {
        this.rows.early++;
      }
      return false;
    }
    const inWindow = o.ts - row.ts <= window;
    // a guardrail event counts once per exposure, whether or not the exposure converted
    if (inWindow) for (const g of guards) this.live.guarded(row.id, row.arm, g);
    if (!goal || row.converted === 1 || !inWindow) return false;
    this.sql.exec('UPDATE pending SET converted = 1 WHERE id = ?', row.id);
    this.live.converted(row.id, row.arm, o.ts, exp.arms.length);
    this.state.counts.conversions[row.arm]! += 1;
    if (this.state.model) this.learn(row.arm, row.fh, row.fvals, 1);
    return true;
  }

  /**
   * Holds both tables to their caps, oldest rows out first (row-caps.ts). An evicted exposure
   * that has not converted closes its window early: the contextual model learns y = 0, as it
   * would have when the window closed. True when anything was evicted.
   */
  private trim(exp: Experiment): boolean {
    type Row = { ts: number; id: string; arm: number; converted: number; fh: ArrayBuffer | null; fvals: ArrayBuffer | null };
    const model = this.state.model !== null;
    const pending = evictOldest<Row>(
      this.sql,
      'pending',
      this.rows.pending - this.caps.pending,
      model ? 'arm, converted, fh, fvals' : '',
      (r) => {
        if (model && r.converted === 0) this.learn(r.arm, r.fh, r.fvals, 0);
      },
    );
    const early = evictOldest(this.sql, 'early', this.rows.early - this.caps.early);
    if (pending + early === 0) return false;
    this.rows.pending -= pending;
    this.rows.early -= early;
    this.state.evicted.pending += pending;
    this.state.evicted.early += early;
    const now = Date.now();
    if (now - this.warnedAt >= 60_000) {
      // a flood evicts on every batch: one line a minute carries the totals
      this.warnedAt = now;
      log.warn('experiment rows evicted', { experiment: exp.key, caps: this.caps, evicted: this.state.evicted });
    }
    return true;
  }

  private learn(arm: number, fh: ArrayBuffer | null, fvals: ArrayBuffer | null, y: number): void {
    if (!this.state.model || !fh || !fvals) return;
    const hashes = new Uint32Array(fh);
    this.fv.hashes.set(hashes);
    this.fv.values.set(new Float32Array(fvals));
    (this.fv as { length: number }).length = hashes.length;
    updateLinearThompson(this.state.model, arm, this.fv, y);
  }

  override async alarm(): Promise<void> {
    const exp = this.exp;
    if (!exp) return;
    const now = Date.now();
    // Close attribution windows: the contextual model learns the non-conversions now, in the
    // order they arrived (an online update depends on it; the ts index would give ts-then-id order).
    const cutoff = now - exp.attributionWindowSeconds * 1000;
    if (this.state.model) {
      for (const r of this.sql.exec<{ arm: number; fh: ArrayBuffer | null; fvals: ArrayBuffer | null }>(
        'SELECT arm, fh, fvals FROM pending WHERE ts < ? AND converted = 0 ORDER BY rowid',
        cutoff,
      )) {
        this.learn(r.arm, r.fh, r.fvals, 0);
        this.dirty = true;
      }
    }
    this.sql.exec('DELETE FROM pending WHERE ts < ?', cutoff);
    this.rows.pending -= deletedRows(this.sql);
    this.sql.exec('DELETE FROM early WHERE ts < ?', cutoff);
    this.rows.early -= deletedRows(this.sql);
    this.live.expire(cutoff);
    await this.checkGuardrails(now);
    const live = exp.status === 'running' || exp.status === 'paused';
    const stale = this.state.published === null || now - this.state.published.at >= HEARTBEAT_MS;
    if (this.dirty || (live && stale)) await this.publish(now);
    await this.scheduleNext(now);
  }

  /**
   * The next alarm: the earliest attribution window to close (of an exposure, or of a parked goal:
   * a stopped test has no heartbeat, and its parked goals must still expire), and the heartbeat of
   * a live test.
   */
  private async scheduleNext(now: number): Promise<void> {
    const exp = this.exp!;
    const oldest = this.sql
      .exec<{ ts: number | null }>('SELECT MIN(ts) AS ts FROM (SELECT MIN(ts) AS ts FROM pending UNION ALL SELECT MIN(ts) FROM early)')
      .one().ts;
    let next = Infinity;
    if (oldest !== null) next = oldest + exp.attributionWindowSeconds * 1000 + 1;
    if ((exp.status === 'running' || exp.status === 'paused') && this.state.published)
      next = Math.min(next, this.state.published.at + HEARTBEAT_MS);
    if (next !== Infinity) await this.ctx.storage.setAlarm(Math.max(now + exp.publishSeconds * 1000, next));
  }

  /** Computes the allocation, writes the snapshot blob then flips the manifest, records history. */
  private async publish(now: number): Promise<void> {
    const exp = this.exp!;
    const s = this.state;
    const k = exp.arms.length;
    const seed = murmur3(exp.key, exp.epoch);
    const allocation = new Float64Array(k);
    // Contextual tests allocate per visitor; the snapshot's ALLO is their Thompson allocation on counts (shown in charts).
    allocate(exp.algorithm.name === 'linear-thompson' ? { ...exp.algorithm, name: 'thompson' } : exp.algorithm, s.counts, seed, allocation);
    excludePaused(
      allocation,
      exp.arms.map((a) => a.key),
      pausedArms(exp),
    );
    const pBest = new Float64Array(k);
    probabilityBest(s.counts, 4000, seed, pBest);
    s.seq += 1;
    const version = `${exp.epoch}.${s.seq}`;
    const name = snapshotName(exp.key);
    const blob = encodeSnapshot({
      name,
      version,
      arms: exp.arms.map((a) => a.key),
      algorithm: exp.algorithm.name,
      floor: exp.algorithm.floor,
      epoch: exp.epoch,
      publishedAt: now,
      counts: s.counts,
      allocation,
      model: s.model,
    });
    const kv = prefixedKv(kvOf(this.env), siteDataPrefix(this.site));
    await kv.put(modelKey(name, version), blob, { expirationTtl: SNAPSHOT_TTL_SECONDS });
    await kv.put(manifestKey(name), JSON.stringify({ name, kind: 'bandit', active: version, history: [{ version, at: now }] }));
    s.published = { version, at: now };
    this.dirty = false;
    const point: HistoryPoint = {
      t: now,
      allocation: Array.from(allocation),
      probabilityBest: Array.from(pBest),
      impressions: Array.from(s.counts.impressions),
      conversions: Array.from(s.counts.conversions),
    };
    this.sql.exec('INSERT OR REPLACE INTO history VALUES (?, ?)', now, JSON.stringify(point));
    this.sql.exec('DELETE FROM history WHERE t NOT IN (SELECT t FROM history ORDER BY t DESC LIMIT ?)', HISTORY_ROWS);
    this.persist();
  }

  async stats(): Promise<AggregatorStats> {
    const exp = this.exp;
    const c = this.state.counts;
    return {
      arms: exp ? exp.arms.map((a) => a.key) : [],
      impressions: Array.from(c.impressions),
      conversions: Array.from(c.conversions),
      pending: this.rows.pending,
      early: this.rows.early,
      evicted: { ...this.state.evicted },
      snapshot: this.state.published,
      history: this.sql
        .exec<{ point: string }>('SELECT point FROM history ORDER BY t')
        .toArray()
        .map((r) => JSON.parse(r.point)),
      live: exp ? this.live.read(exp) : null,
      sequential: exp?.algorithm.name === 'fixed' ? this.look(exp) : null,
      guardrailsCheckedAt: this.state.guardCheckedAt,
    };
  }

  /**
   * One look at a fixed split's always-valid read-out: the running minima and intersections
   * carry over from the last look (fixed-results.ts), so a decision once reached stays.
   */
  private look(exp: Experiment): SequentialResults {
    const c = this.state.counts;
    const r = sequentialResults(
      exp.arms.map((a) => a.key),
      exp.arms.map((_, i) => ({ exposures: c.impressions[i] ?? 0, conversions: c.conversions[i] ?? 0 })),
      Math.max(
        0,
        exp.arms.findIndex((a) => a.key === exp.control),
      ),
      this.state.seqMemory,
    );
    if (JSON.stringify(r.memory) !== JSON.stringify(this.state.seqMemory)) {
      this.state.seqMemory = r.memory;
      this.persist();
    }
    return r;
  }

  /**
   * The guardrail check, at most every `guardrailCheckSeconds` of a running test: an arm whose
   * probability of harming a guardrail passed its threshold is paused (or the test, when the
   * guardrail says so or no arm would be left), as a new version of the experiment written here
   * and to KV, with the reason in the audit log.
   */
  private async checkGuardrails(now: number): Promise<void> {
    const exp = this.exp!;
    if ((exp.guardrails ?? []).length === 0 || exp.status !== 'running') return;
    if (now - this.state.guardCheckedAt < (exp.guardrailCheckSeconds ?? 86_400) * 1000) return;
    this.state.guardCheckedAt = now;
    this.persist();
    const pause = guardrailPause(exp, this.live.read(exp).guardrails, now);
    if (pause === null) return;
    const { next, report } = pause;
    log.warn('guardrail paused', { experiment: exp.key, action: report.action, arms: report.pauseArms, reasons: report.reasons });
    await this.configure(next);
    try {
      await saveExperiment(kvOf(this.env), next);
    } catch (err) {
      // the next admin write brings KV up to this object's version (service.ts `commit`)
      log.error('guardrail pause not saved to KV', { experiment: exp.key, error: String(err) });
    }
  }

  private async scheduleAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  private persist(): void {
    const s = this.state;
    const json = JSON.stringify({
      impressions: Array.from(s.counts.impressions),
      conversions: Array.from(s.counts.conversions),
      seq: s.seq,
      published: s.published,
      model: s.model ? { arms: s.model.arms, bits: s.model.bits } : null,
      evicted: s.evicted,
      seqMemory: s.seqMemory,
      guardCheckedAt: s.guardCheckedAt,
    });
    this.sql.exec('INSERT OR REPLACE INTO kv VALUES (?, ?), (?, ?)', 'state', json, 'dirty', this.dirty ? '1' : '0');
    if (s.model) {
      // The contextual weights as raw float32 blobs (up to 1 MiB each), not JSON text.
      this.sql.exec(
        'INSERT OR REPLACE INTO kv VALUES (?, ?), (?, ?)',
        'mean',
        s.model.mean.slice().buffer,
        'precision',
        s.model.precision.slice().buffer,
      );
    }
  }
}

function reviveState(
  raw: {
    impressions: number[];
    conversions: number[];
    seq: number;
    published: State['published'];
    model: { arms: number; bits: number } | null;
    evicted?: Record<CappedTable, number>;
    seqMemory?: SequentialMemory | null;
    guardCheckedAt?: number;
  },
  mean: ArrayBuffer | undefined,
  precision: ArrayBuffer | undefined,
): State {
  const model =
    raw.model && mean && precision
      ? { arms: raw.model.arms, bits: raw.model.bits, mean: new Float32Array(mean), precision: new Float32Array(precision) }
      : raw.model
        ? newLinearThompson(raw.model.arms, raw.model.bits)
        : null;
  return {
    counts: { impressions: Float64Array.from(raw.impressions), conversions: Float64Array.from(raw.conversions) },
    seq: raw.seq,
    published: raw.published,
    model,
    evicted: { ...noEvictions(), ...raw.evicted },
    seqMemory: raw.seqMemory ?? null,
    guardCheckedAt: raw.guardCheckedAt ?? 0,
  };
}

/** Whether the served allocation moved with this config change: a new snapshot is due. */
function allocationChanged(before: Experiment | null, exp: Experiment): boolean {
  return (
    before === null ||
    before.epoch !== exp.epoch ||
    before.algorithm.floor !== exp.algorithm.floor ||
    String(before.algorithm.weights) !== String(exp.algorithm.weights) ||
    String(pausedArms(before)) !== String(pausedArms(exp))
  );
}

/** A create older than this, held by the aggregator but not in KV, is one KV lost. */
const STALE_CREATE_MS = 60_000;

/** Whether an aggregator holding `have` takes `next`, built from version `from` (see `commit`). */
export function takes(have: Experiment, next: Experiment, from: number | null, now: number): boolean {
  if (JSON.stringify(have) === JSON.stringify(next)) return true;
  if (from === null) return now - have.createdAt > STALE_CREATE_MS || sameConfig(have, next);
  return have.version <= from;
}

/** The same experiment apart from when it was made and its history (a repeated create). */
function sameConfig(a: Experiment, b: Experiment): boolean {
  const strip = (e: Experiment) => JSON.stringify({ ...e, createdAt: 0, updatedAt: 0, history: [] });
  return strip(a) === strip(b);
}
