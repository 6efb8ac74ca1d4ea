/**
 * Baskets from our outcome log: events with items (page, add_to_cart, purchase, click,
 * conversion), grouped per visitor into sessions (30 minutes without an event ends one). The log
 * is read through DuckDB (../log/open-log.ts: NDJSON or Parquet, a slice of hours at a time, in
 * time order); decision records on the same log are skipped.
 */
import type { DuckDBListValue, DuckDBStructValue } from '@duckdb/node-api';
import { chunks, litList, rows } from '../log/duckdb.ts';
import { type LogHandle, type OpenLogOptions, openLog } from '../log/open-log.ts';
import { type Basket, type BasketSet, facts, type ItemFacts } from './baskets.ts';

const SESSION_GAP_MS = 30 * 60_000;
const ITEM_EVENTS = ['page', 'add_to_cart', 'purchase', 'click', 'conversion'];

/** A row that is no JSON object at all (a torn or garbage line) reads as all NULLs. */
const NOT_JSON = 'type IS NULL AND id IS NULL AND ts IS NULL';
const KEPT = `type = 'outcome' AND name IN ${litList(ITEM_EVENTS)} AND len(items) > 0 AND ts IS NOT NULL`;

export async function readOutcomeLog(paths: readonly string[], o: Omit<OpenLogOptions, 'log'> = {}): Promise<BasketSet> {
  const log = await openLog({ ...o, log: paths });
  try {
    return await basketsOf(log);
  } finally {
    await log.close();
  }
}

export async function basketsOf(log: LogHandle): Promise<BasketSet> {
  const con = log.duck.con;
  const open = new Map<string, { items: Set<string>; ts: number; last: number; segment?: string }>();
  const baskets: Basket[] = [];
  const items = new Map<string, ItemFacts>();
  const dropped: Record<string, number> = { notJson: 0, noItems: 0, noVisitor: 0 };
  let read = 0;
  const close = (visitor: string) => {
    const s = open.get(visitor)!;
    baskets.push({ id: `${visitor}@${s.ts}`, items: [...s.items], ts: s.ts, user: visitor, segment: s.segment });
    open.delete(visitor);
  };
  for (const slice of log.plan({ windowMs: 0, graceMs: 0, skewMs: 0 })) {
    await log.load('rec', slice, ['type', 'name', 'visitor', 'items', 'country', 'props'], true);
    const n = (
      await rows(
        con,
        `SELECT count(*)::INTEGER AS read, count(*) FILTER (WHERE ${NOT_JSON})::INTEGER AS "notJson",
                count(*) FILTER (WHERE NOT (${NOT_JSON}) AND NOT coalesce(${KEPT}, false))::INTEGER AS "noItems",
                count(*) FILTER (WHERE coalesce(${KEPT}, false) AND coalesce(visitor, '') = '')::INTEGER AS "noVisitor"
         FROM rec WHERE own`,
      )
    )[0]!;
    read += Number(n.read);
    for (const k of Object.keys(dropped)) dropped[k]! += Number(n[k]);
    const sql = `SELECT visitor, ts, coalesce(country, CASE WHEN json_type(props, '$.country') = 'VARCHAR' THEN upper(props->>'$.country') END) AS segment, items
      FROM rec WHERE own AND ${KEPT} AND coalesce(visitor, '') <> '' ORDER BY ts, id`;
    for await (const c of chunks(con, sql)) {
      const vs = c.getColumnVector(0);
      const ts = c.getColumnVector(1);
      const segs = c.getColumnVector(2);
      const its = c.getColumnVector(3);
      for (let i = 0; i < c.rowCount; i++) {
        const visitor = vs.getItem(i) as string;
        const t = ts.getItem(i) as number;
        const s = open.get(visitor);
        if (s && t - s.last > SESSION_GAP_MS) close(visitor);
        let cur = open.get(visitor);
        if (!cur) {
          // recorded at intake; a `country` property the site sent itself is the older way
          const segment = segs.getItem(i) as string | null;
          open.set(visitor, (cur = { items: new Set(), ts: t, last: t, ...(segment ? { segment } : {}) }));
        }
        cur.last = Math.max(cur.last, t);
        for (const it of (its.getItem(i) as DuckDBListValue).items as (DuckDBStructValue | null)[]) {
          const id = it?.entries.id;
          if (typeof id !== 'string' || id === '') continue;
          cur.items.add(id);
          const f = facts(items, id);
          const price = it!.entries.price;
          if (typeof price === 'number' && price > 0 && f.prices.length < 64) f.prices.push(price);
        }
      }
    }
  }
  for (const v of [...open.keys()]) close(v);
  baskets.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1));
  const kept = read - dropped.notJson! - dropped.noItems! - dropped.noVisitor!;
  return { baskets, items, rows: { read, kept, dropped } };
}
