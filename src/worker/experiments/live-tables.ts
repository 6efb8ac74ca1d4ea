/**
 * What an experiment's aggregator keeps beyond the arm counts, for the read-outs of
 * core/experiments (each one's doc comment says what it needs):
 *
 *   hours   one row per hour: fresh draws per arm and the Σ of the probabilities their decisions
 *           gave each arm (srm.ts), exposures, goals credited, exposures without a profile cookie
 *   cells   exposures and conversions per (dimension, value, arm): device, country, new vs
 *           returning visitor, each audience segment (segments-breakdown.ts); a dimension keeps
 *           at most MAX_VALUES values, the rest count as "(other)"
 *   guards  per guardrail goal and arm: exposures, and exposures that had the event within the
 *           attribution window, once each (guardrails.ts)
 *   renders per arm: failed renders the snippet reported (health.ts)
 *   marks   per exposure still inside its window: the cells it was counted in and the guardrail
 *           goals it has had, so a later conversion or guardrail event is counted in the right
 *           places, once; deleted with the window, and capped like the exposures themselves
 *   unseen  a test whose exposure is the viewable impression: each decision served, held until
 *           the snippet's impression (or a click in the slot) says it was seen; deleted with the
 *           window, capped like the marks
 *
 * Hour rows are accumulated in memory during a batch and written once per hour touched
 * (`flush`). Hours beyond MAX_HOURS are merged into the oldest row, which costs the SRM test a
 * little power and nothing else.
 */
import type { DecisionRecord } from '../../core/decision-record.ts';
import type { Experiment } from '../../core/experiments/experiment.ts';
import type { HealthPeriod } from '../../core/experiments/health.ts';
import type { LiveCounts } from '../../core/experiments/read-out.ts';
import { OTHER, type SegmentCountRow } from '../../core/experiments/segments-breakdown.ts';
import { deletedRows } from './row-caps.ts';

export const LIVE_SCHEMA = `CREATE TABLE IF NOT EXISTS hours (start INTEGER PRIMARY KEY, row TEXT);
  CREATE TABLE IF NOT EXISTS cells (dim TEXT, value TEXT, arm INTEGER, n INTEGER, s INTEGER, PRIMARY KEY (dim, value, arm));
  CREATE TABLE IF NOT EXISTS guards (goal TEXT, arm INTEGER, n INTEGER, e INTEGER, PRIMARY KEY (goal, arm));
  CREATE TABLE IF NOT EXISTS renders (arm INTEGER PRIMARY KEY, failed INTEGER);
  CREATE TABLE IF NOT EXISTS marks (id TEXT PRIMARY KEY, ts INTEGER, cells TEXT, guards TEXT);
  CREATE INDEX IF NOT EXISTS marks_ts ON marks (ts, id);
  CREATE TABLE IF NOT EXISTS unseen (id TEXT PRIMARY KEY, ts INTEGER, record TEXT);
  CREATE INDEX IF NOT EXISTS unseen_ts ON unseen (ts, id);`;

const HOUR = 3_600_000;
/** a month of hourly rows; older ones merge into the first */
export const MAX_HOURS = 24 * 30;
/** values kept per dimension (countries alone run to ~250) */
export const MAX_VALUES = 50;
/** marks are one per exposure in its window: the same cap as the pending exposures (row-caps.ts) */
export const MAX_MARKS = 1_000_000;

interface HourRow {
  assigned: number[];
  expected: number[];
  exposures: number;
  goals: number;
  withoutProfile: number;
}

export type LiveSnapshot = LiveCounts;

type Cell = readonly [dim: string, value: string];

/** The segment cells an exposure counts in. */
function cellsOf(r: DecisionRecord): Cell[] {
  const c = r.context;
  const out: Cell[] = [
    ['device', String(c.device)],
    ['country', String(c.country)],
    ['visitor', c.visits > 1 ? 'returning' : 'new'],
  ];
  for (const s of c.segments ?? []) out.push(['segment', String(s)]);
  return out;
}

export class LiveTables {
  private readonly hours = new Map<number, HourRow>();
  private values: Map<string, Set<string>> | null = null;
  private marks = -1;

  constructor(private readonly sql: SqlStorage) {
    sql.exec(LIVE_SCHEMA);
  }

  private hour(ts: number, k: number): HourRow {
    const start = ts - (ts % HOUR);
    let row = this.hours.get(start);
    if (row === undefined) {
      const stored = this.sql.exec<{ row: string }>('SELECT row FROM hours WHERE start = ?', start).toArray()[0];
      row = stored ? (JSON.parse(stored.row) as HourRow) : { assigned: [], expected: [], exposures: 0, goals: 0, withoutProfile: 0 };
      for (let i = row.assigned.length; i < k; i++) row.assigned.push(0);
      for (let i = row.expected.length; i < k; i++) row.expected.push(0);
      this.hours.set(start, row);
    }
    return row;
  }

  /** A fresh draw of `arm` (srm.ts: decisions not marked sticky, before any dedup). */
  draw(r: DecisionRecord, arm: number, k: number): void {
    const row = this.hour(r.ts, k);
    row.assigned[arm]! += 1;
    if (r.probabilities.length === k) for (let i = 0; i < k; i++) row.expected[i]! += r.probabilities[i]!;
    else row.expected[arm]! += 1; // a record without its probabilities: as if certain (no evidence either way)
  }

  /** An exposure counted (after the per-visitor dedup). */
  exposed(exp: Experiment, r: DecisionRecord, arm: number): void {
    const row = this.hour(r.ts, exp.arms.length);
    row.exposures += 1;
    if (r.noProfile === true) row.withoutProfile += 1;
    const cells = cellsOf(r).map(([dim, value]): Cell => [dim, this.capped(dim, value)]);
    for (const [dim, value] of cells)
      this.sql.exec('INSERT INTO cells VALUES (?, ?, ?, 1, 0) ON CONFLICT (dim, value, arm) DO UPDATE SET n = n + 1', dim, value, arm);
    for (const g of exp.guardrails ?? [])
      this.sql.exec('INSERT INTO guards VALUES (?, ?, 1, 0) ON CONFLICT (goal, arm) DO UPDATE SET n = n + 1', g.goal, arm);
    const before = this.markCount();
    if (this.sql.exec('INSERT OR IGNORE INTO marks VALUES (?, ?, ?, ?)', r.id, r.ts, JSON.stringify(cells), '[]').rowsWritten > 0)
      this.marks = before + 1;
  }

  /** The exposure `id` converted at `ts`. */
  converted(id: string, arm: number, ts: number, k: number): void {
    this.hour(ts, k).goals += 1;
    const m = this.sql.exec<{ cells: string }>('SELECT cells FROM marks WHERE id = ?', id).toArray()[0];
    if (!m) return; // evicted: the conversion counts for the arm, not in a segment
    for (const [dim, value] of JSON.parse(m.cells) as Cell[])
      this.sql.exec('UPDATE cells SET s = s + 1 WHERE dim = ? AND value = ? AND arm = ?', dim, value, arm);
  }

  /** A guardrail event for exposure `id`; false when that exposure already had one of this goal. */
  guarded(id: string, arm: number, goal: string): boolean {
    const m = this.sql.exec<{ guards: string }>('SELECT guards FROM marks WHERE id = ?', id).toArray()[0];
    if (!m) return false;
    const had = JSON.parse(m.guards) as string[];
    if (had.includes(goal)) return false;
    this.sql.exec('UPDATE marks SET guards = ? WHERE id = ?', JSON.stringify([...had, goal]), id);
    this.sql.exec('UPDATE guards SET e = e + 1 WHERE goal = ? AND arm = ?', goal, arm);
    return true;
  }

  /** A decision served, not an exposure until it is seen (`exposure: viewable`). */
  hold(r: DecisionRecord): void {
    this.sql.exec('INSERT OR IGNORE INTO unseen VALUES (?, ?, ?)', r.id, r.ts, JSON.stringify(r));
  }

  /** The held decision `id`, taken out (null when none is held: seen already, expired, or not ours). */
  release(id: string): DecisionRecord | null {
    const row = this.sql.exec<{ record: string }>('SELECT record FROM unseen WHERE id = ?', id).toArray()[0];
    if (!row) return null;
    this.sql.exec('DELETE FROM unseen WHERE id = ?', id);
    return JSON.parse(row.record) as DecisionRecord;
  }

  renderFailed(arm: number): void {
    this.sql.exec('INSERT INTO renders VALUES (?, 1) ON CONFLICT (arm) DO UPDATE SET failed = failed + 1', arm);
  }

  /** Writes the hours touched since the last flush, merging the oldest beyond MAX_HOURS. */
  flush(): void {
    for (const [start, row] of this.hours) this.sql.exec('INSERT OR REPLACE INTO hours VALUES (?, ?)', start, JSON.stringify(row));
    this.hours.clear();
    const n = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM hours').one().n;
    if (n <= MAX_HOURS) return;
    const rows = this.sql
      .exec<{ start: number; row: string }>('SELECT start, row FROM hours ORDER BY start LIMIT ?', n - MAX_HOURS + 1)
      .toArray();
    const merged = JSON.parse(rows[0]!.row) as HourRow;
    for (const r of rows.slice(1)) {
      const x = JSON.parse(r.row) as HourRow;
      for (let i = 0; i < x.assigned.length; i++) merged.assigned[i] = (merged.assigned[i] ?? 0) + x.assigned[i]!;
      for (let i = 0; i < x.expected.length; i++) merged.expected[i] = (merged.expected[i] ?? 0) + x.expected[i]!;
      merged.exposures += x.exposures;
      merged.goals += x.goals;
      merged.withoutProfile += x.withoutProfile;
    }
    this.sql.exec('DELETE FROM hours WHERE start > ? AND start <= ?', rows[0]!.start, rows.at(-1)!.start);
    this.sql.exec('INSERT OR REPLACE INTO hours VALUES (?, ?)', rows[0]!.start, JSON.stringify(merged));
  }

  /** Forgets the marks of exposures whose window closed, and the oldest beyond the cap. */
  expire(cutoff: number): void {
    const before = this.markCount();
    this.sql.exec('DELETE FROM marks WHERE ts < ?', cutoff);
    this.marks = before - deletedRows(this.sql);
    const over = this.marks - MAX_MARKS;
    if (over > 0) {
      const last = this.sql.exec<{ ts: number; id: string }>('SELECT ts, id FROM marks ORDER BY ts, id LIMIT 1 OFFSET ?', over - 1).one();
      this.sql.exec('DELETE FROM marks WHERE (ts, id) <= (?, ?)', last.ts, last.id);
      this.marks -= deletedRows(this.sql);
    }
    this.sql.exec('DELETE FROM unseen WHERE ts < ?', cutoff);
    const held = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM unseen').one().n - MAX_MARKS;
    if (held > 0) {
      const last = this.sql.exec<{ ts: number; id: string }>('SELECT ts, id FROM unseen ORDER BY ts, id LIMIT 1 OFFSET ?', held - 1).one();
      this.sql.exec('DELETE FROM unseen WHERE (ts, id) <= (?, ?)', last.ts, last.id);
    }
  }

  /** Everything goes: the arms changed. */
  reset(): void {
    this.hours.clear();
    for (const t of ['hours', 'cells', 'guards', 'renders', 'marks', 'unseen']) this.sql.exec(`DELETE FROM ${t}`);
    this.values = new Map();
    this.marks = 0;
  }

  read(exp: Experiment): LiveSnapshot {
    const arms = exp.arms.map((a) => a.key);
    const k = arms.length;
    const periods = this.sql
      .exec<{ start: number; row: string }>('SELECT start, row FROM hours ORDER BY start')
      .toArray()
      .map(({ start, row }): HealthPeriod => {
        const r = JSON.parse(row) as HourRow;
        const fit = (xs: number[]) => Array.from({ length: k }, (_, i) => xs[i] ?? 0);
        return { start, ...r, assigned: fit(r.assigned), expected: fit(r.expected) };
      });
    const cells = this.sql
      .exec<{ dim: string; value: string; arm: number; n: number; s: number }>('SELECT dim, value, arm, n, s FROM cells')
      .toArray()
      .filter((c) => c.arm < k)
      .map((c): SegmentCountRow => ({ dimension: c.dim, value: c.value, arm: arms[c.arm]!, exposures: c.n, conversions: c.s }));
    const byGoal = new Map<string, { goal: string; exposures: number[]; events: number[] }>();
    for (const g of exp.guardrails ?? [])
      byGoal.set(g.goal, { goal: g.goal, exposures: new Array(k).fill(0), events: new Array(k).fill(0) });
    for (const r of this.sql.exec<{ goal: string; arm: number; n: number; e: number }>('SELECT goal, arm, n, e FROM guards')) {
      const row = byGoal.get(r.goal);
      if (row && r.arm < k) {
        row.exposures[r.arm] = r.n;
        row.events[r.arm] = r.e;
      }
    }
    const renderFailures = new Array<number>(k).fill(0);
    for (const r of this.sql.exec<{ arm: number; failed: number }>('SELECT arm, failed FROM renders'))
      if (r.arm < k) renderFailures[r.arm] = r.failed;
    return { periods, cells, guardrails: [...byGoal.values()], renderFailures };
  }

  private markCount(): number {
    if (this.marks < 0) this.marks = this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM marks').one().n;
    return this.marks;
  }

  /** `value`, or "(other)" once its dimension holds MAX_VALUES others. */
  private capped(dim: string, value: string): string {
    if (this.values === null) {
      this.values = new Map();
      for (const r of this.sql.exec<{ dim: string; value: string }>('SELECT DISTINCT dim, value FROM cells')) {
        let set = this.values.get(r.dim);
        if (!set) this.values.set(r.dim, (set = new Set()));
        set.add(r.value);
      }
    }
    let set = this.values.get(dim);
    if (!set) this.values.set(dim, (set = new Set()));
    if (set.has(value)) return value;
    if (set.size >= MAX_VALUES) return OTHER;
    set.add(value);
    return value;
  }
}
