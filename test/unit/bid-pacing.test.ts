/** Budget pacing over a simulated day of traffic (pure core, no clock). */
import { describe, expect, it } from 'vitest';
import type { Campaign } from '../../src/core/bidding/campaign.ts';
import { DAY_MS, PACING_SLACK, pacingRate, underFrequencyCap, type SpendState } from '../../src/core/bidding/pacing.ts';

const HOUR = 3_600_000;
const DAY0 = 20_000 * DAY_MS; // a UTC midnight

function camp(pacing: 'even' | 'asap', daily: number, total?: number): Campaign {
  return {
    id: 'p',
    status: 'active',
    adomain: 'a.example',
    budget: { daily, total },
    pacing,
    bid: { goal: 'cpm', value: 10, minCpm: 0, maxCpm: 10 },
    targeting: {},
    creatives: [],
  };
}

/** xorshift: a seeded uniform draw, so the simulation is the same every run */
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

/**
 * A day of requests, busier in the evening (a request in 25%–75% of seconds, sinusoidal), each won
 * half the time at $10 CPM (one cent). Uncapped, the day would spend ~$216 against a $100 budget.
 */
function simulate(c: Campaign, seed = 7): { hourly: number[]; spent: number } {
  const u = rng(seed);
  let spend: SpendState = { day: DAY0 / DAY_MS, spent: 0, total: 0 };
  const hourly = new Array<number>(24).fill(0);
  for (let t = DAY0; t < DAY0 + DAY_MS; t += 1000) {
    const hour = Math.floor((t - DAY0) / HOUR);
    const load = (1 + 0.5 * Math.sin(((hour - 12) / 24) * 2 * Math.PI)) / 2;
    if (u() >= load) continue; // no request this second
    if (u() >= pacingRate(c, spend, t)) continue; // throttled
    if (u() < 0.5) {
      spend = { day: spend.day, spent: spend.spent + 0.01, total: spend.total + 0.01 };
      hourly[hour]! += 0.01;
    }
  }
  return { hourly, spent: spend.spent };
}

describe('even pacing over a simulated day', () => {
  it('spends the budget, never more, along the even line', () => {
    const { hourly, spent } = simulate(camp('even', 100));
    expect(spent).toBeLessThanOrEqual(100 + 0.01);
    expect(spent).toBeGreaterThan(97);
    let cum = 0;
    for (let h = 0; h < 24; h++) {
      cum += hourly[h]!;
      const line = (100 * (h + 1)) / 24;
      expect(cum, `hour ${h}`).toBeLessThanOrEqual(line + PACING_SLACK * 100 + 0.02);
      expect(cum, `hour ${h}`).toBeGreaterThan(line - 2.5);
    }
    // every hour gets a share: no hour is starved, none gets a burst
    for (const x of hourly) {
      expect(x).toBeGreaterThan(2.5);
      expect(x).toBeLessThan(6.5);
    }
  });

  it('asap spends the same budget before the evening and then stops', () => {
    const { hourly, spent } = simulate(camp('asap', 100));
    expect(spent).toBeLessThanOrEqual(100 + 0.01);
    const last = hourly.findLastIndex((x) => x > 0);
    expect(spent).toBeGreaterThan(99.9);
    expect(last).toBeLessThan(17); // the evening, its busiest traffic, gets nothing
    expect(simulate(camp('even', 100)).hourly[23]).toBeGreaterThan(2.5);
  });

  it('stops at the total budget and starts a new day from zero', () => {
    const c = camp('even', 100, 150);
    expect(pacingRate(c, { day: DAY0 / DAY_MS, spent: 10, total: 150 }, DAY0 + 12 * HOUR)).toBe(0);
    // yesterday's spend does not count today
    expect(pacingRate(camp('even', 100), { day: DAY0 / DAY_MS - 1, spent: 100, total: 100 }, DAY0 + HOUR)).toBe(1);
  });

  it('throttles smoothly ahead of the line', () => {
    const c = camp('even', 100);
    const noon = DAY0 + 12 * HOUR;
    expect(pacingRate(c, { day: DAY0 / DAY_MS, spent: 49, total: 49 }, noon)).toBe(1);
    expect(pacingRate(c, { day: DAY0 / DAY_MS, spent: 51, total: 51 }, noon)).toBeCloseTo(0.5, 6);
    expect(pacingRate(c, { day: DAY0 / DAY_MS, spent: 52, total: 52 }, noon)).toBe(0);
  });
});

describe('frequency caps', () => {
  it('allows up to count impressions', () => {
    const c = { ...camp('even', 1), frequencyCap: { count: 3, hours: 24 } };
    expect(underFrequencyCap(c, 2)).toBe(true);
    expect(underFrequencyCap(c, 3)).toBe(false);
    expect(underFrequencyCap(camp('even', 1), 1000)).toBe(true);
  });
});
