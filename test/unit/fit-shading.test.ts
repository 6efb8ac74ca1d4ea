/** The shading trainer: win/loss events from the log → per-publisher win curves. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OutcomeEvent } from '../../src/core/outcome-event.ts';
import { winProb, type WinCurve } from '../../src/core/bidding/win-curve.ts';
import { addRecord, createShadingFit, curvesOf, readShadingLog } from '../../src/train/fit-shading.ts';
import { compactLog } from '../../src/train/log/compact.ts';
import { openDuck } from '../../src/train/log/duckdb.ts';
import { openLog } from '../../src/train/log/open-log.ts';
import { recentKeys } from '../../src/train/recent-keys.ts';
import { writeObject } from '../fixtures/messy-log.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

let nextDecision = 0;
function event(
  name: 'win' | 'loss' | 'billing',
  bid: number,
  pub: string,
  decisionId = `d${nextDecision++}`,
  lossReason?: number,
): OutcomeEvent {
  const auction = lossReason === undefined ? {} : { lossReason };
  return {
    type: 'outcome',
    v: 1,
    id: `${name}:${decisionId}`,
    ts: 0,
    receivedAt: 0,
    name,
    decisionId,
    auction,
    props: { campaign: 'c', bid, pub },
  };
}

describe('fit-shading', () => {
  it('recovers each publisher’s curve, pooling small publishers into *', () => {
    const u = rng(5);
    const truth: Record<string, WinCurve> = { big: { a: -1, k: 2.5 }, small: { a: 1, k: 1 } };
    const fit = createShadingFit();
    for (let i = 0; i < 30_000; i++) {
      const pub = i % 100 === 0 ? 'small' : 'big';
      const bid = Math.exp(-1 + 3 * u());
      expect(addRecord(fit, event(u() < winProb(truth[pub]!, bid) ? 'win' : 'loss', bid, pub))).toBe(true);
    }
    const curves = curvesOf(fit, 1000);
    expect([...curves.keys()].sort()).toEqual(['*', 'pub:big']);
    expect(curves.get('pub:big')!.a).toBeCloseTo(-1, 1);
    expect(curves.get('pub:big')!.k).toBeCloseTo(2.5, 1);
  }, 30_000);

  it('counts each bid once: replayed notices (and a loss after its win) are dropped', () => {
    const fit = createShadingFit();
    expect(addRecord(fit, event('loss', 2, 'p', 'x1'))).toBe(true);
    for (let i = 0; i < 20; i++) expect(addRecord(fit, event('loss', 2, 'p', 'x1'))).toBe(false);
    expect(addRecord(fit, event('win', 2, 'p', 'x2'))).toBe(true);
    expect(addRecord(fit, event('loss', 2, 'p', 'x2'))).toBe(false);
    expect(addRecord(fit, event('billing', 2, 'p', 'x2'))).toBe(false); // the win's own billing
    expect(fit).toMatchObject({ auctions: 2, duplicates: 22 });
  });

  it('takes a billing notice as a win (exchanges that call only the burl), and only price losses as losses', () => {
    const fit = createShadingFit();
    expect(addRecord(fit, event('billing', 2, 'p', 'b1'))).toBe(true);
    expect(fit.all.wins.reduce((x, y) => x + y, 0)).toBe(1);
    for (const reason of [100, 101, 102, 103]) expect(addRecord(fit, event('loss', 2, 'p', `l${reason}`, reason))).toBe(true);
    // a filtered creative, a blocked seat, an expired impression, an exchange error: not the price
    for (const reason of [1, 2, 104, 201, 1005]) expect(addRecord(fit, event('loss', 2, 'p', `o${reason}`, reason))).toBe(false);
    expect(fit).toMatchObject({ auctions: 5, notPrice: 5 });
  });

  it('remembers recent decisions in bounded memory: repeats within the window are caught, across millions of auctions', () => {
    const keys = recentKeys(10); // 1,024 slots: remembers the last 512 to 1,024 keys
    for (let i = 0; i < 5_000_000; i += 997) expect(keys.seen((i * 2654435761) % 2 ** 53)).toBe(false);
    let caught = 0;
    for (let i = 0; i < 100_000; i++) {
      const k = 1e12 + i;
      expect(keys.seen(k)).toBe(false);
      if (i >= 400 && keys.seen(k - 400)) caught++; // the same key 400 adds later
    }
    expect(caught).toBe(100_000 - 400);
    expect(keys.seen(1e12)).toBe(false); // long forgotten
  }, 30_000); // millions of auctions

  it('reads the notices from the log through DuckDB (NDJSON and Parquet alike) as addRecord reads the records', async () => {
    const u = rng(11);
    const T = Date.UTC(2026, 10, 1);
    const records: OutcomeEvent[] = [];
    for (let i = 0; i < 4000; i++) {
      const pub = i % 3 === 0 ? 'a' : 'b';
      const bid = Math.exp(-1 + 3 * u());
      const e = event(u() < 0.4 ? 'win' : 'loss', bid, pub, `s${i}`, u() < 0.1 ? 2 : u() < 0.5 ? 102 : undefined);
      records.push({ ...e, ts: T + i * 1000, ...(u() < 0.2 ? { auction: { ...e.auction, minToWin: bid * 0.8 } } : {}) });
      if (i % 50 === 0) records.push({ ...records.at(-1)!, id: `replay-${i}` }); // a replayed notice
    }
    records.push({ ...records[0]!, id: 'nobid', props: { bid: 'high' } } as unknown as OutcomeEvent);
    const direct = createShadingFit();
    for (const r of records) addRecord(direct, r);
    const dir = await mkdtemp(join(tmpdir(), 'attune-shading-'));
    for (let i = 0; i < records.length; i += 100) {
      const batch = records.slice(i, i + 100);
      writeObject(dir, batch[0]!.ts, `${String(batch[0]!.ts)}-${i}.ndjson.gz`, batch);
    }
    const viaLog = async (dirs: string[]) => {
      const fit = createShadingFit();
      const log = await openLog({ log: dirs });
      try {
        await readShadingLog(log, fit);
      } finally {
        await log.close();
      }
      return fit;
    };
    const fromNdjson = await viaLog([dir]);
    expect(fromNdjson).toMatchObject({ auctions: direct.auctions, duplicates: direct.duplicates, notPrice: direct.notPrice });
    expect(curvesOf(fromNdjson, 500)).toEqual(curvesOf(direct, 500));
    const duck = await openDuck();
    try {
      await compactLog(duck, { log: dir, out: join(dir, 'pq'), now: T + 100 * 3_600_000 });
    } finally {
      duck.close();
    }
    expect(curvesOf(await viaLog([join(dir, 'pq')]), 500)).toEqual(curvesOf(direct, 500));
  }, 30_000);
});
