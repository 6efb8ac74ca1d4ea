/** A campaign's report from its counts (core/bidding/campaign-stats.ts), the demo campaigns' seeding, and placement keys. */
import { readFileSync } from 'node:fs';
import type { Imp } from 'iab-openrtb/v26';
import { describe, expect, it } from 'vitest';
import { requestFacts } from '../../src/core/bidding/bid-features.ts';
import type { Campaign } from '../../src/core/bidding/campaign.ts';
import { campaignReport, reportCsv, ZERO, type StatsRow } from '../../src/core/bidding/campaign-stats.ts';
import { placementBase, placementKey } from '../../src/core/bidding/floors-feedback.ts';
import { parseDemo, withDemo } from '../../scripts/seed-campaigns.ts';

const row = (day: string, exchange: string, over: Partial<StatsRow>): StatsRow => ({ ...ZERO, day, exchange, ...over });

describe('campaign report', () => {
  const rows = [
    row('2026-12-01', 'adx', {
      bids: 100,
      bidSpend: 0.2,
      bidValue: 0.3,
      wins: 20,
      spend: 0.03,
      impressions: 18,
      clicks: 2,
      saved: 0.01,
      wonValue: 0.04,
    }),
    row('2026-12-01', 'openx', { bids: 50, bidSpend: 0.1, bidValue: 0.1, wins: 5, spend: 0.01, clicks: 0 }),
    row('2026-12-02', 'adx', { bids: 10, wins: 0, conversions: 1, conversionValue: 30 }),
  ];

  it('adds up per exchange, per day and in total, and computes the rates from the sums', () => {
    const r = campaignReport(rows);
    expect(r.totals.bids).toBe(160);
    expect(r.totals.wins).toBe(25);
    expect(r.totals.winRate).toBeCloseTo(25 / 160, 12);
    expect(r.totals.ecpm).toBeCloseTo((1000 * 0.04) / 25, 12);
    expect(r.totals.ctr).toBeCloseTo(2 / 25, 12);
    expect(r.totals.cpc).toBeCloseTo(0.02, 12);
    expect(r.totals.cpa).toBeCloseTo(0.04, 12);
    expect(r.totals.avgBidCpm).toBeCloseTo((1000 * 0.3) / 160, 12);
    expect(r.totals.shadingSavingsShare).toBeCloseTo(0.25, 12);
    expect(Object.keys(r.byExchange)).toEqual(['adx', 'openx']);
    expect(r.byExchange.openx!.cpc).toBeNull(); // no clicks: no cost per click
    expect(r.byExchange.openx!.cpa).toBeNull();
    expect(r.byDay.map((d) => [d.day, d.bids])).toEqual([
      ['2026-12-01', 150],
      ['2026-12-02', 10],
    ]);
    expect(r.byDay[1]!.winRate).toBe(0);
    expect(r.byDay[1]!.ecpm).toBeNull();
    expect(campaignReport([]).totals.winRate).toBeNull();
  });

  it('writes one CSV line per day and exchange, then the period per exchange and in total; empty cells for no rate', () => {
    const lines = reportCsv(campaignReport(rows)).trim().split('\n');
    expect(lines).toHaveLength(1 + 3 + 2 + 1);
    expect(lines[1]).toBe('2026-12-01,adx,100,20,0.2,18,0.03,1.5,2,0.1,0.015,0,0,,2,3,0.01,0.25');
    expect(lines[3]).toBe('2026-12-02,adx,10,0,0,0,0,,0,,,1,30,0,0,0,0,');
    expect(lines.at(-1)!.startsWith('total,*,160,25,')).toBe(true);
  });
});

describe('the demo campaigns', () => {
  const demo = parseDemo(JSON.parse(readFileSync(new URL('../../demo/campaigns.json', import.meta.url), 'utf8')));

  it('pass the admin API checks: a banner campaign bidding asap without a cap, a video one, a PMP deal one', () => {
    expect(typeof demo).not.toBe('string');
    const list = demo as Campaign[];
    expect(list.map((c) => c.id)).toEqual(['demo-banner', 'demo-video', 'demo-pmp']);
    const banner = list[0]!;
    expect(banner.pacing).toBe('asap');
    expect(banner.frequencyCap).toBeUndefined();
    // thousands of local test bids a day, each held at its price while in flight
    expect(banner.budget.daily / (banner.bid.maxCpm / 1000)).toBeGreaterThan(10_000);
    expect(list[2]!.targeting.deals).toEqual(['AB-Agency1-0001']);
    expect(parseDemo([{ ...list[0]!, bid: { ...list[0]!.bid, minCpm: 20 } }])).toMatch(/bid.minCpm/);
    expect(parseDemo([{ id: 'x' }])).toMatch(/not a valid campaign list/);
  });

  it('are added where missing, and leave campaigns already stored (edited, paused, others) as they are', () => {
    const list = demo as Campaign[];
    const paused = { ...list[0]!, status: 'paused' as const };
    const mine = { ...list[1]!, id: 'mine' };
    const { list: merged, added } = withDemo([paused, mine], list);
    expect(added).toEqual(['demo-video', 'demo-pmp']);
    expect(merged.map((c) => [c.id, c.status])).toEqual([
      ['demo-banner', 'paused'],
      ['mine', 'active'],
      ['demo-video', 'active'],
      ['demo-pmp', 'active'],
    ]);
    expect(withDemo(list, list).added).toEqual([]);
  });
});

describe('placement keys', () => {
  const req = { id: 'r', imp: [], site: { id: 'site-9', domain: 'news.example', publisher: { id: 'p1' } } };
  const facts = requestFacts(req as never, 0, null);
  const imp = (over: Partial<Imp>): Imp => ({ id: '1', banner: { w: 300, h: 250, pos: 1 }, ...over }) as Imp;
  const key = (exchange: string, site: string, i: Imp) => placementKey(placementBase(exchange, facts, site), i, 'banner', '300x250');

  it('name the ad unit where one is given, else its format; differ by exchange, site and unit; are 16 hex characters', () => {
    const k = key('adx', 'site-9', imp({ tagid: 'top' }));
    expect(k).toMatch(/^[0-9a-f]{16}$/);
    expect(key('adx', 'site-9', imp({ id: '7', tagid: 'top' }))).toBe(k); // the imp id is the request's
    expect(key('openx', 'site-9', imp({ tagid: 'top' }))).not.toBe(k);
    expect(key('adx', 'site-10', imp({ tagid: 'top' }))).not.toBe(k);
    expect(key('adx', 'site-9', imp({ tagid: 'side' }))).not.toBe(k);
    const untagged = key('adx', 'site-9', imp({}));
    expect(key('adx', 'site-9', imp({ banner: { w: 300, h: 250, pos: 3 } }))).not.toBe(untagged);
  });
});
