/**
 * Model version age and stale models. A decision record carries its model's `{ name, version }`
 * but not when that version was published, so a version's time is
 *   - the time its name encodes, when it is in `npm run train`'s default form (UTC
 *     `20261123t101500`) and no later than its first decision in the log read: when it was trained;
 *   - else its first decision in the log read (history.ts reads `--history` days before the
 *     comparison period): a lower bound when that is the start of what was read.
 * `model_version_age` is the age, in days, of the version of each named model's latest decision in
 * the chosen period, at the period's newest decision. A model whose version is older than the
 * stale limit (`--stale-days`, default STALE_DAYS) is an `anomaly`: retraining or publishing has
 * probably stopped. One check per model deciding in the period.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows } from '../log/duckdb.ts';
import { DAY, HOUR } from './days.ts';
import { fmtSubject, type RankedFinding } from './findings.ts';
import { groupBy } from './group-by.ts';

export const STALE_DAYS = 7;

export interface ModelVersion {
  readonly kind: string;
  readonly model: string;
  /** the version of the model's latest decision in the chosen period */
  readonly version: string;
  /** its time (ms) and where that came from */
  readonly since: number;
  readonly sinceFrom: 'name' | 'first decision' | 'first decision read';
  /** model_version_age: days from `since` to the period's newest decision */
  readonly ageDays: number;
  /** versions of the model seen in the log read */
  readonly versions: number;
}

/** `20261123t101500` (train.ts's default version) as a UTC time, or null. */
export function versionTime(version: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})t(\d{2})(\d{2})(\d{2})/i.exec(version);
  if (!m) return null;
  const t = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isFinite(t) ? t : null;
}

export async function modelVersions(con: DuckDBConnection, readFrom: number): Promise<ModelVersion[]> {
  const rs = await rows(
    con,
    `SELECT kind, model, version, min(ts)::DOUBLE AS first, max(ts) FILTER (WHERE after)::DOUBLE AS last
     FROM ua WHERE model <> '' AND version <> '' GROUP BY ALL ORDER BY ALL`,
  );
  const newest = Number((await rows(con, 'SELECT max(ts)::DOUBLE AS t FROM u WHERE after'))[0]?.t ?? NaN);
  const firstRead = Number((await rows(con, 'SELECT min(ts)::DOUBLE AS t FROM ua'))[0]?.t ?? NaN);
  const out: ModelVersion[] = [];
  for (const [, list] of groupBy(rs, (r) => `${r.kind}\u0000${r.model}`)) {
    const inUse = list.filter((r) => r.last !== null).sort((a, b) => Number(b.last) - Number(a.last))[0];
    if (!inUse || !Number.isFinite(newest)) continue;
    const first = Number(inUse.first);
    const named = versionTime(String(inUse.version));
    const fromName = named !== null && named <= first;
    // first seen within an hour of the first record read: it may be older than the log read
    const bound = first - Math.max(readFrom, firstRead) < HOUR;
    const since = fromName ? named : first;
    out.push({
      kind: String(inUse.kind),
      model: String(inUse.model),
      version: String(inUse.version),
      since,
      sinceFrom: fromName ? 'name' : bound ? 'first decision read' : 'first decision',
      ageDays: (newest - since) / DAY,
      versions: list.length,
    });
  }
  return out;
}

export function staleFindings(vs: readonly ModelVersion[], staleDays = STALE_DAYS): { findings: RankedFinding[]; checks: number } {
  const findings: RankedFinding[] = [];
  for (const v of vs) {
    if (!(v.ageDays > staleDays)) continue;
    const updated = vs.filter((o) => o !== v && o.ageDays <= staleDays).length;
    const since = new Date(v.since).toISOString().slice(0, 16).replace('T', ' ');
    const how =
      v.sinceFrom === 'name'
        ? `trained ${since} UTC, by its name`
        : `${v.sinceFrom === 'first decision read' ? 'at least since' : 'first deciding'} ${since} UTC`;
    findings.push({
      kind: 'anomaly',
      subject: { kind: v.kind, model: v.model },
      metric: 'model_version_age',
      before: null,
      after: v.ageDays,
      change: null,
      interval: null,
      severity: v.ageDays > 2 * staleDays ? 'high' : 'medium',
      sentence:
        `Model ${v.model} (${fmtSubject({ kind: v.kind })}) still decides with version ${v.version}, ${v.ageDays.toFixed(1)} days old (${how}), past the ${staleDays}-day limit` +
        `${updated > 0 ? ` while ${updated} other model${updated > 1 ? 's' : ''} updated` : ''}: its retraining or publishing may have stopped.`,
      strength: v.ageDays,
      against: null,
    });
  }
  return { findings, checks: vs.length };
}
