// Which files a reader takes: both layouts, the site partition, Parquet in place of an hour's
// NDJSON (and NDJSON that landed after compaction), unusable files; and the time-slice plan.
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SITE, logObjectKey, parsePartition, partitionPath } from '../../src/core/log-layout.ts';
import { compactLog } from '../../src/train/log/compact.ts';
import { openDuck, rows } from '../../src/train/log/duckdb.ts';
import { type LogFile, selectHours } from '../../src/train/log/files.ts';
import { openLog } from '../../src/train/log/open-log.ts';
import { DEFAULT_SLICE_BYTES, ownsHour, planSlices, readsHour } from '../../src/train/log/slices.ts';
import { writeSyntheticLog } from '../../src/train/synthetic-log.ts';
import { writeObject } from '../fixtures/messy-log.ts';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 10, 1);

/** Records (valid) the log holds per decision/outcome type, through the reader's own loading. */
async function count(dirs: string[], site?: string): Promise<{ records: number; ids: Set<string>; skipped: string[] }> {
  const log = await openLog({ log: dirs, site });
  try {
    const ids = new Set<string>();
    let records = 0;
    for (const slice of log.plan({ windowMs: 0, graceMs: 0, skewMs: 0 })) {
      await log.load('rec', slice, ['type'], true);
      for (const r of await rows(log.duck.con, 'SELECT id FROM rec WHERE own AND valid')) {
        records++;
        ids.add(String(r.id));
      }
    }
    return { records, ids, skipped: log.skipped.map((s) => basename(s.path)) };
  } finally {
    await log.close();
  }
}

describe('log layout (src/core/log-layout.ts)', () => {
  it('keys objects by site, day and hour, and parses both layouts back', () => {
    const key = logObjectKey(T + 5 * HOUR + 1234, ['m2', 'm1']);
    expect(key).toMatch(/^log\/site=default\/dt=2026-11-01\/hour=05\/1793509201234-[0-9a-f]{16}\.ndjson\.gz$/);
    expect(logObjectKey(T + 5 * HOUR + 1234, ['m1', 'm2'])).toBe(key); // the batch's ids, in any order
    expect(parsePartition(key)).toEqual({ site: 'default', hour: T + 5 * HOUR });
    expect(parsePartition('/data/log/dt=2026-11-01/hour=23/x.ndjson.gz')).toEqual({ site: DEFAULT_SITE, hour: T + 23 * HOUR });
    expect(parsePartition('site=shop-2/dt=2026-11-01/hour=00/part-0.parquet')).toEqual({ site: 'shop-2', hour: T });
    expect(parsePartition('dt=2026-02-30/hour=01/x.ndjson')).toBeNull();
    expect(parsePartition('dt=2026-11-01/hour=24/x.ndjson')).toBeNull();
    expect(parsePartition('x.ndjson')).toBeNull();
    expect(partitionPath('default', T + 90 * 60_000)).toBe('site=default/dt=2026-11-01/hour=01/');
    expect(logObjectKey(T, ['m'], 'shop-2')).toMatch(/^log\/site=shop-2\/dt=2026-11-01\/hour=00\//);
  });

  it('reads a key the consumer wrote before the site partition as the same hour of site default', () => {
    const ids = ['m-3', 'm-1', 'm-2'];
    const key = logObjectKey(T + 7 * HOUR + 5, ids);
    const before = key.replace(/^log\/site=default\//, 'log/');
    expect(before).toMatch(/^log\/dt=2026-11-01\/hour=07\/\d{13}-[0-9a-f]{16}\.ndjson\.gz$/);
    expect(parsePartition(before)).toEqual(parsePartition(key));
  });
});

describe('listing the log', () => {
  it('reads the current layout and the one before the site partition, one site at a time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attune-layouts-'));
    await writeSyntheticLog(join(dir, 'new'), { decisions: 3000, seed: 1, start: T, perObject: 100 });
    await writeSyntheticLog(join(dir, 'old'), { decisions: 3000, seed: 2, start: T + 2 * HOUR, perObject: 100, layout: 'legacy' });
    // another site's hour, which a reader of site default must not see
    writeObject(join(dir, 'new'), T, 'x.ndjson.gz', [{ type: 'decision', id: 'other', ts: T }], '', 'shop');
    const both = await count([join(dir, 'new'), join(dir, 'old')]);
    const onlyNew = await count([join(dir, 'new')]);
    const onlyOld = await count([join(dir, 'old')]);
    expect(both.records).toBe(onlyNew.records + onlyOld.records);
    expect(onlyNew.ids.has('d1-0') && onlyOld.ids.has('d2-0')).toBe(true);
    expect(both.ids.has('other')).toBe(false);
    expect((await count([join(dir, 'new')], 'shop')).ids).toEqual(new Set(['other']));
  }, 60_000);

  it('reads only the partition hours asked for', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attune-range-'));
    await writeSyntheticLog(dir, { decisions: 9000, seed: 4, start: T, perObject: 100 }); // hours 0-2
    const log = await openLog({ log: [dir], hours: { from: T + HOUR, to: T + 2 * HOUR } });
    try {
      expect(log.hours.map((h) => h.hour)).toEqual([T + HOUR]);
    } finally {
      await log.close();
    }
  }, 60_000);

  it('skips and reports files no reader can use, and reads the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attune-bad-'));
    writeObject(dir, T, 'good.ndjson.gz', [{ type: 'decision', id: 'a', ts: T }], 'not json\n{"type":"decision","id":"torn"');
    const folder = join(dir, partitionPath('default', T));
    writeFileSync(join(folder, 'empty.ndjson.gz'), Buffer.alloc(0));
    writeFileSync(join(folder, 'short.ndjson.gz'), Buffer.from([0x1f, 0x8b, 8, 0]));
    writeFileSync(join(folder, 'text.ndjson.gz'), '{"type":"decision","id":"b","ts":1}\n');
    writeFileSync(join(folder, 'notes.txt'), 'ignored');
    const r = await count([dir]);
    expect([...r.ids]).toEqual(['a']);
    expect(r.skipped.sort()).toEqual(['empty.ndjson.gz', 'short.ndjson.gz', 'text.ndjson.gz']);
  }, 60_000);

  it("prefers an hour's Parquet to its NDJSON, and still reads NDJSON that landed after compaction", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attune-pref-'));
    await writeSyntheticLog(dir, { decisions: 7000, seed: 3, start: T, perObject: 100 }); // hours 0-1
    const before = await count([dir]);
    const duck = await openDuck();
    try {
      // compact hour 0 only
      const r = await compactLog(duck, { log: dir, out: dir, from: T, to: T + HOUR, now: T + 10 * HOUR });
      expect(r.written).toBe(1);
    } finally {
      duck.close();
    }
    const after = await count([dir]);
    expect(after.records).toBe(before.records); // hour 0 from Parquet, not twice
    expect(after.ids).toEqual(before.ids);
    // which files: hour 0 is its Parquet alone, hour 1 its NDJSON
    const log = await openLog({ log: [dir] });
    try {
      expect(log.hours.map((h) => [h.hour, h.parquet.length, h.ndjson.length > 0, h.compacted > 0])).toEqual([
        [T, 1, false, true],
        [T + HOUR, 0, true, false],
      ]);
    } finally {
      await log.close();
    }
    // an object that lands in hour 0 after compaction
    writeObject(dir, T, '9999999999999-late.ndjson.gz', [{ type: 'decision', id: 'late-one', ts: T + 100 }]);
    const late = await count([dir]);
    expect(late.records).toBe(before.records + 1);
    expect(late.ids.has('late-one')).toBe(true);
    // the hour's NDJSON gone (a lifecycle rule): its Parquet alone still holds it
    const folder = join(dir, partitionPath('default', T));
    for (const f of readdirSync(folder)) if (f.endsWith('.ndjson.gz')) rmSync(join(folder, f));
    expect((await count([dir])).records).toBe(before.records);
  }, 60_000);

  it('takes a Parquet file from another writer (no source list) as the whole hour', () => {
    const f = (path: string, format: 'ndjson' | 'parquet'): LogFile => ({ path, bytes: 10, format, site: 'default', hour: T });
    const files = [f('/l/a.ndjson.gz', 'ndjson'), f('/l/b.ndjson.gz', 'ndjson'), f('/l/p.parquet', 'parquet')];
    expect(selectHours(files, { site: 'default', sources: new Map() })[0]).toMatchObject({
      parquet: ['/l/p.parquet'],
      ndjson: [],
      compacted: 2,
    });
    expect(selectHours(files, { site: 'default', sources: new Map([['/l/p.parquet', ['a.ndjson.gz']]]) })[0]).toMatchObject({
      parquet: ['/l/p.parquet'],
      ndjson: ['/l/b.ndjson.gz'],
    });
  });
});

describe('time slices (memory stays flat as the log grows)', () => {
  const O = { windowMs: 30 * 60_000, graceMs: 10 * 60_000, skewMs: 60_000, sliceBytes: 100 };
  const hours = (n: number, bytes = 30) => Array.from({ length: n }, (_, i) => ({ hour: T + i * HOUR, bytes }));

  it('cuts by input size: a longer log makes more slices, not bigger ones', () => {
    for (const n of [10, 100, 1000]) {
      const plan = planSlices(hours(n), O);
      expect(plan.length).toBe(Math.ceil((n * 30) / 100)); // as many as 100 bytes a slice needs, evenly cut
      for (const s of plan) {
        const own = hours(n).filter((h) => ownsHour(s, h.hour));
        expect(own.reduce((a, h) => a + h.bytes, 0)).toBeLessThanOrEqual(O.sliceBytes + 30);
        // what it reads beyond its own: a fixed margin, whatever the log's length
        expect(hours(n).filter((h) => readsHour(s, h.hour)).length - own.length).toBeLessThanOrEqual(1 + 1);
      }
    }
  });

  it('gives every hour to exactly one slice, and reads what can count for its decisions', () => {
    const plan = planSlices(hours(50), O);
    for (const h of hours(50)) expect(plan.filter((s) => ownsHour(s, h.hour)).length).toBe(1);
    expect(plan[0]!.from).toBe(-Infinity); // decisions dated before the first partition belong somewhere
    expect(plan.at(-1)!.to).toBe(Infinity);
    for (const s of plan.slice(1, -1)) {
      expect(s.readFrom).toBeLessThanOrEqual(s.from - HOUR); // a batch straddling the hour
      expect(s.readTo).toBeGreaterThanOrEqual(s.to + O.windowMs + O.graceMs); // outcomes arriving within window and grace
    }
  });

  it('makes one slice of a log without partitions, and of a small one', () => {
    expect(planSlices([{ hour: null, bytes: 5 }, ...hours(3)], O)).toEqual([
      { from: -Infinity, to: Infinity, readFrom: -Infinity, readTo: Infinity },
    ]);
    expect(planSlices(hours(20), { ...O, sliceBytes: DEFAULT_SLICE_BYTES })).toHaveLength(1);
  });
});
