// npm run log:compact: NDJSON hours → Parquet hours, and back through the readers.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { partitionPath } from '../../src/core/log-layout.ts';
import { ALL_COLUMNS, recordsSql } from '../../src/train/log/columns.ts';
import { compactLog, PARQUET_NAME } from '../../src/train/log/compact.ts';
import { type Duck, litList, openDuck, rows } from '../../src/train/log/duckdb.ts';
import { logExamples } from '../../src/train/log/examples.ts';
import { openLog } from '../../src/train/log/open-log.ts';
import { writeSyntheticLog } from '../../src/train/synthetic-log.ts';
import { writeObject } from '../fixtures/messy-log.ts';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 10, 1);
const LATER = T + 48 * HOUR;

/** An outcome with every field the schema has, and a decision with every optional one. */
const FULL = [
  {
    type: 'outcome',
    v: 1,
    id: 'full-o',
    ts: T + 10,
    receivedAt: T + 20,
    name: 'purchase',
    decisionId: 'd7-1',
    visitor: 'abcd0123',
    slot: 'hero',
    variant: 'bold',
    experiment: 'e1',
    goal: 'g',
    value: 42.5,
    currency: 'EUR',
    items: [{ id: 'sku-1', price: 20, quantity: 2 }, { id: 'sku-2' }],
    viewable: { share: 0.5, ms: 1200 },
    auction: { price: 1.25, minToWin: 1.1, lossReason: 102 },
    exchange: 'ex-a',
    props: { a: 'x', n: 3, b: true },
    country: 'FR',
  },
  {
    type: 'decision',
    v: 1,
    id: 'full-d',
    ts: T + 30,
    kind: 'bid',
    visitor: 'abcd0123',
    slot: 'pos-1',
    model: { name: 'm', version: 'v1' },
    action: 'bid-1',
    propensity: 1,
    score: 0.02,
    source: 'model',
    candidates: ['bid-1'],
    probabilities: [1],
    featureSpec: 3735928559,
    context: { attrs: { z: 1, a: 'b' }, segments: ['s1'], hour: 5 },
    sticky: true,
    fallback: 'none',
    experiment: 'e2',
    exchange: 'ex-b',
  },
];

async function withDuck<T>(f: (d: Duck) => Promise<T>): Promise<T> {
  const duck = await openDuck();
  try {
    return await f(duck);
  } finally {
    duck.close();
  }
}

const meta = (duck: Duck, file: string) =>
  rows(duck.con, `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${litList([file])}) ORDER BY k`);

describe('log:compact', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attune-compact-'));
  const log = join(dir, 'log');
  const out = join(dir, 'pq');
  await writeSyntheticLog(log, { decisions: 9000, seed: 7, start: T, perObject: 100, layout: 'legacy' }); // hours 0-2, old layout
  writeObject(log, T, '9999999999999-full.ndjson.gz', FULL, 'torn {"type"\n');

  it('writes one Parquet file per closed hour in the site layout, holding every record as written', async () => {
    await withDuck(async (duck) => {
      // hour 2 ended less than the settle time ago: left open
      const r = await compactLog(duck, { log, out, now: T + 3 * HOUR + 30 * 60_000 });
      expect(r).toMatchObject({ written: 2, upToDate: 0, leftOpen: 1 });
      const h0 = join(out, partitionPath('default', T), PARQUET_NAME);
      expect(readdirSync(join(out, partitionPath('default', T)))).toEqual([PARQUET_NAME]);
      // the same records, field for field (JSON text as written, minified)
      // hour 0's objects: the old layout's, and one in the site layout (FULL)
      const folders = [join(log, 'dt=2026-11-01', 'hour=00'), join(log, partitionPath('default', T))];
      const ndjsonFiles = folders.flatMap((d) => readdirSync(d).map((f) => join(d, f)));
      const src = `SELECT * EXCLUDE (valid) FROM (${recordsSql({ ndjson: ndjsonFiles, parquet: [] }, ALL_COLUMNS, Infinity)}) WHERE valid`;
      const pq = `SELECT * FROM read_parquet(${litList([h0])}, hive_partitioning = false)`;
      expect((await rows(duck.con, `SELECT count(*)::INTEGER AS n FROM (${src} EXCEPT ALL ${pq})`))[0]!.n).toBe(0);
      expect((await rows(duck.con, `SELECT count(*)::INTEGER AS n FROM (${pq} EXCEPT ALL ${src})`))[0]!.n).toBe(0);
      expect((await rows(duck.con, `SELECT count(*)::INTEGER AS n FROM (${src})`))[0]!.n).toBeGreaterThan(3000);
      const back = (
        await duck.con.runAndReadAll(
          `SELECT * FROM read_parquet(${litList([h0])}, hive_partitioning = false) WHERE id IN ('full-o', 'full-d') ORDER BY id DESC`,
        )
      ).getRowObjectsJson();
      const clean = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));
      const json = (o: Record<string, unknown>) =>
        JSON.parse(JSON.stringify(clean(o), (_k, v) => (typeof v === 'string' && /^[[{]/.test(v) ? JSON.parse(v) : v)));
      expect(json(back[0]!)).toEqual({
        ...FULL[0],
        items: [
          { id: 'sku-1', price: 20, quantity: 2 },
          { id: 'sku-2', price: null, quantity: null },
        ],
        auction: FULL[0]!.auction,
      });
      expect(json(back[1]!)).toEqual(FULL[1]);
      // what it holds, in its metadata
      const m = await meta(duck, h0);
      expect(m.find((x) => x.k === 'attune_schema')!.v).toBe('1');
      expect(JSON.parse(String(m.find((x) => x.k === 'attune_sources')!.v))).toEqual(folders.flatMap((d) => readdirSync(d)).sort());
    });
  }, 60_000);

  it('skips hours that are up to date, and folds in objects that landed after compaction', async () => {
    await withDuck(async (duck) => {
      const again = await compactLog(duck, { log, out, now: LATER });
      expect(again).toMatchObject({ written: 1, upToDate: 2, leftOpen: 0 }); // hour 2 is closed now
      const h0 = join(out, partitionPath('default', T), PARQUET_NAME);
      const n0 = Number((await rows(duck.con, `SELECT count(*)::INTEGER AS n FROM read_parquet(${litList([h0])})`))[0]!.n);
      writeObject(log, T, '9999999999999-late.ndjson.gz', [{ type: 'decision', v: 1, id: 'late-1', ts: T + 99 }]);
      const late = await compactLog(duck, { log, out, now: LATER });
      expect(late).toMatchObject({ written: 1, objects: 1, upToDate: 2 });
      expect(Number((await rows(duck.con, `SELECT count(*)::INTEGER AS n FROM read_parquet(${litList([h0])})`))[0]!.n)).toBe(n0 + 1);
      const sources = JSON.parse(String((await meta(duck, h0)).find((x) => x.k === 'attune_sources')!.v)) as string[];
      expect(sources).toContain('9999999999999-late.ndjson.gz');
      expect(sources).toContain('9999999999999-full.ndjson.gz');
    });
  }, 60_000);

  it('is read in place of the NDJSON when readers are given both folders', async () => {
    const decisions = async (dirs: string[]) => {
      const handle = await openLog({ log: dirs });
      try {
        let n = 0;
        for await (const b of logExamples(handle, { labels: new Set(['click']), windowMs: 1_800_000, graceMs: 600_000, skewMs: 60_000 }))
          n += b.length;
        return { n, parquet: handle.hours.filter((h) => h.parquet.length > 0).length };
      } finally {
        await handle.close();
      }
    };
    const raw = await decisions([log]);
    const both = await decisions([log, out]);
    expect(raw).toEqual({ n: 9002, parquet: 0 }); // the synthetic 9,000, FULL's decision and the late one
    expect(both).toEqual({ n: 9002, parquet: 3 });
  }, 60_000);

  it('compacts only the hours asked for', async () => {
    const out2 = join(dir, 'pq2');
    await withDuck(async (duck) => {
      const r = await compactLog(duck, { log, out: out2, from: T + HOUR, to: T + 2 * HOUR, now: LATER });
      expect(r).toMatchObject({ written: 1, leftOpen: 2 });
      expect(readdirSync(join(out2, 'site=default', 'dt=2026-11-01'))).toEqual(['hour=01']);
    });
  }, 60_000);

  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['src/train/log-compact.ts', ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, HOME: dir },
    });

  it('prints its usage on --help, and names what is missing or wrong', { timeout: 60_000 }, () => {
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--log DIR\|r2:\/\/bucket\/log/);
    const none = cli(['--log', log]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^log:compact: --out is required/);
    expect(cli(['--log', log, '--out', join(dir, 'x'), '--from', 'soon']).stderr).toMatch(/--from must be an ISO 8601 date/);
  });

  it('runs from the command line, and says how to reach R2 when httpfs is not installed (no download)', { timeout: 60_000 }, () => {
    const r = cli(['--log', log, '--out', join(dir, 'pq3'), '--quiet']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^compacted 3 hours/);
    const remote = cli(['--log', 'r2://attune-log/log', '--out', 'r2://attune-log/log']);
    expect(remote.status).toBe(1);
    expect(remote.stderr).toMatch(/httpfs extension: install it once/);
  });
});
