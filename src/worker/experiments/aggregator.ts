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
 *
 * This class coordinates; the work is in plain functions over its storage: attribution.ts (the
 * exposures and goals over the SQL tables), snapshot-publish.ts (the snapshot and its history),
 * aggregator-state.ts (the state it persists and revives), config-change.ts (what an admin write
 * changes) and aggregator-stats.ts (what it reports).
 */
import { DurableObject } from 'cloudflare:workers';
import type { Experiment } from '../../core/experiments/experiment.ts';
import { guardrailPause } from '../../core/experiments/guardrail-pause.ts';
import type { SequentialResults } from '../../core/experiments/fixed-results.ts';
import { createFeatureVector, type FeatureVector } from '../../core/features.ts';
import { DEFAULT_SITE } from '../../core/log-layout.ts';
import type { LogRecord, OutcomeEvent } from '../../core/outcome-event.ts';
import { sequentialLook, type AggregatorStats } from './aggregator-stats.ts';
import { AGGREGATOR_SCHEMA, freshState, loadAggregator, persistState } from './aggregator-state.ts';
import { attribute, closeWindows, trim, type Attribution, type IngestSummary } from './attribution.ts';
import { allocationChanged, countsReset, sameConfig, takes } from './config-change.ts';
import { countRows, ROW_CAPS, type CappedTable, type RowCaps } from './row-caps.ts';
import { LiveTables } from './live-tables.ts';
import { HEARTBEAT_MS, publishSnapshot, readHistory, recordHistory } from './snapshot-publish.ts';
import { saveExperiment } from './store.ts';
import { log } from '../shared/log.ts';
import { kvOf } from '../shared/bindings.ts';

export class ExperimentAggregator extends DurableObject<Env> {
  private exp: Experiment | null = null;
  private state = freshState(null, 0);
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
      this.sql.exec(AGGREGATOR_SCHEMA);
      const loaded = loadAggregator(this.sql);
      this.exp = loaded.exp;
      this.site = loaded.site;
      this.state = loaded.state ?? this.state;
      this.dirty = loaded.dirty;
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
    if (countsReset(before, exp)) {
      this.state = freshState(exp, this.state.seq);
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
    if (!exp || exp.status === 'draft' || exp.status === 'archived')
      return { exposures: 0, conversions: 0, ignored: records.length + joined.length };
    const cx = this.attribution();
    const summary = attribute(cx, exp, records, joined);
    this.live.flush();
    const trimmed = trim(cx, this.caps);
    if (trimmed) this.warnEvicted(exp);
    // the posterior moved: counts, or a contextual model that learned from evicted exposures
    const changed = summary.exposures + summary.conversions > 0 || (trimmed && this.state.model !== null);
    if (changed) this.dirty = true;
    if (changed || trimmed) this.persist(); // the eviction counts too
    if (changed) await this.scheduleAlarm(Date.now() + exp.publishSeconds * 1000);
    else if (this.rows.early > 0 && (await this.ctx.storage.getAlarm()) === null) await this.scheduleNext(Date.now()); // parked goals expire too
    return summary;
  }

  /** What attribution.ts works on: this object's tables and state, as they are now. */
  private attribution(): Attribution {
    return { sql: this.sql, live: this.live, state: this.state, rows: this.rows, fv: this.fv };
  }

  /** The warning that rows were evicted to hold the caps. */
  private warnEvicted(exp: Experiment): void {
    const now = Date.now();
    if (now - this.warnedAt >= 60_000) {
      // a flood evicts on every batch: one line a minute carries the totals
      this.warnedAt = now;
      log.warn('experiment rows evicted', { experiment: exp.key, caps: this.caps, evicted: this.state.evicted });
    }
  }

  override async alarm(): Promise<void> {
    const exp = this.exp;
    if (!exp) return;
    const now = Date.now();
    if (closeWindows(this.attribution(), now - exp.attributionWindowSeconds * 1000)) this.dirty = true;
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

  private async scheduleAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /** Publishes the snapshot (snapshot-publish.ts) and records its point in the history. */
  private async publish(now: number): Promise<void> {
    const point = await publishSnapshot(this.env, this.site, this.exp!, this.state, now);
    this.dirty = false;
    recordHistory(this.sql, point);
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
      history: readHistory(this.sql),
      live: exp ? this.live.read(exp) : null,
      sequential: exp?.algorithm.name === 'fixed' ? this.look(exp) : null,
      guardrailsCheckedAt: this.state.guardCheckedAt,
    };
  }

  private look(exp: Experiment): SequentialResults {
    const { results, moved } = sequentialLook(exp, this.state);
    if (moved) this.persist();
    return results;
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

  private persist(): void {
    persistState(this.sql, this.state, this.dirty);
  }
}
