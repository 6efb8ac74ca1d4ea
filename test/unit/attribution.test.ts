import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../../src/core/decision-record.ts';
import type { LogRecord, OutcomeEvent } from '../../src/core/outcome-event.ts';
import { attribute, newJoinStats, parseDuration, type Example, type JoinOptions } from '../../src/train/attribution.ts';
import { pathSources, readRecords, type ReadStats } from '../../src/train/log-reader.ts';
import { auc, calibration, createMetrics, observe } from '../../src/train/metrics.ts';
import { loggedContextOf } from '../../src/train/synthetic-log.ts';

const MIN = 60_000;
const JOIN: JoinOptions = { labels: new Set(['click', 'purchase']), windowMs: 30 * MIN, graceMs: 5 * MIN, skewMs: MIN };
const ctx = loggedContextOf({ device: 'mobile', country: 'US', pageType: 'home', referrer: 'direct', plan: 'free' }, 10, 1);

const decision = (id: string, ts: number): DecisionRecord => ({
  type: 'decision',
  v: 1,
  id,
  ts,
  kind: 'variant',
  visitor: '00000001',
  slot: 'hero',
  model: null,
  action: 'a',
  propensity: 0.5,
  score: null,
  source: 'explore',
  candidates: ['a', 'b'],
  probabilities: [0.5, 0.5],
  featureSpec: 0,
  context: ctx,
});
const outcome = (
  id: string,
  decisionId: string | undefined,
  ts: number,
  name: OutcomeEvent['name'] = 'click',
  value?: number,
): OutcomeEvent =>
  ({
    type: 'outcome',
    v: 1,
    id,
    ts,
    receivedAt: ts,
    name,
    ...(decisionId ? { decisionId } : {}),
    ...(value !== undefined ? { value } : {}),
  }) as OutcomeEvent;

async function run(records: LogRecord[], opts = JOIN) {
  const stats = newJoinStats();
  const out: Example[] = [];
  async function* one() {
    yield records;
  }
  for await (const b of attribute(one(), opts, stats)) out.push(...b);
  return { byId: new Map(out.map((e) => [e.decision.id, e])), out, stats };
}

describe('attribution join', () => {
  it('with `served` (bids: win, billing), learns only from decisions that were shown', async () => {
    const { out, stats } = await run(
      [
        decision('won', 0),
        decision('billed', 1000),
        decision('lost', 2000),
        decision('won-late', 3000),
        outcome('w1', 'won', 500, 'win'),
        outcome('c1', 'won', 60_000),
        outcome('b1', 'billed', 1500, 'billing'),
        outcome('l1', 'lost', 2500, 'loss'),
        outcome('w2', 'won-late', 3000 + 31 * MIN, 'win'), // outside the window: not shown then
        decision('clicked', 4000),
        outcome('c2', 'clicked', 9000), // a click proves it was shown, notice or not
        decision('later', 300 * MIN),
      ],
      { ...JOIN, served: new Set(['win', 'billing']) },
    );
    expect(out.map((e) => [e.decision.id, e.label])).toEqual([
      ['won', 1],
      ['billed', 0],
      ['clicked', 1],
    ]);
    expect(stats.unserved).toBe(3); // lost, won-late, and `later` (no notice at all)
  });

  it('bids learn only from the clicks and notices our routes wrote (they name the exchange), not from /v1/events', async () => {
    const bid = (id: string, ts: number): DecisionRecord => ({ ...decision(id, ts), kind: 'bid' });
    const ours = (o: OutcomeEvent): OutcomeEvent => ({ ...o, exchange: 'exchange-a' });
    const { out, stats } = await run(
      [
        bid('b1', 0),
        bid('b2', 1000),
        bid('b3', 2000),
        decision('v1', 3000),
        ours(outcome('win:b1', 'b1', 500, 'win')),
        outcome('forged-1', 'b1', 600), // a client `click` naming the bid, before the tracker's
        ours(outcome('click:b1', 'b1', 700)),
        ours(outcome('win:b2', 'b2', 1500, 'win')),
        outcome('click:b2', 'b2', 1600), // a client event that took the tracker's id: ignored, not a duplicate
        outcome('forged-3', 'b3', 2500), // would also claim the lost bid b3 was shown
        outcome('c-v1', 'v1', 4000), // variant decisions take clicks from /v1/events, as always
        decision('later', 300 * MIN),
      ],
      { ...JOIN, served: new Set(['win', 'billing']) },
    );
    expect(out.map((e) => [e.decision.id, e.label])).toEqual([
      ['b1', 1],
      ['b2', 0],
      ['v1', 1],
    ]);
    expect(stats).toMatchObject({ unverified: 3, attributed: 2, duplicateOutcomes: 0, unserved: 2 }); // b3, later
  });

  it('labels decisions followed by a label outcome within the window, once per event id', async () => {
    const { byId, out, stats } = await run([
      decision('d1', 0),
      decision('d2', 1000),
      decision('d3', 2000),
      outcome('e1', 'd1', 5000),
      outcome('e1', 'd1', 5000), // resent: counted once
      outcome('p1', 'd2', 10 * MIN, 'purchase', 20),
      outcome('p1', 'd2', 10 * MIN, 'purchase', 20),
      outcome('p2', 'd2', 11 * MIN, 'purchase', 5),
      outcome('late', 'd3', 2000 + 31 * MIN), // past the window
      outcome('imp', 'd3', 3000, 'impression'), // not a label
      decision('d1', 0), // redelivered decision
      decision('d4', 200 * MIN),
    ]);
    expect(out.map((e) => e.decision.id)).toEqual(['d1', 'd2', 'd3', 'd4']);
    expect(byId.get('d1')).toMatchObject({ label: 1, value: 0 });
    expect(byId.get('d2')).toMatchObject({ label: 1, value: 25 });
    expect(byId.get('d3')!.label).toBe(0);
    expect(byId.get('d4')!.label).toBe(0);
    expect(stats).toMatchObject({ decisions: 4, duplicateDecisions: 1, duplicateOutcomes: 2, late: 1, attributed: 3 });
  });

  it('drops a copy of a decision replayed hours later (a dead-letter replay), past the span duplicates are remembered', async () => {
    // horizon: 30 min window + 5 min grace; ids are remembered for twice that
    const { out, stats } = await run([
      decision('d1', 0),
      outcome('c1', 'd1', MIN),
      decision('live', 3 * 60 * MIN), // the log's clock is now 3 h on
      decision('d1', 0),
      outcome('c1', 'd1', MIN), // the replayed copy and its click
      decision('d9', 4 * 60 * MIN),
    ]);
    expect(out.filter((e) => e.decision.id === 'd1')).toHaveLength(1);
    expect(stats).toMatchObject({ decisions: 3, staleDecisions: 1, attributed: 1 });
  });

  it('still reads a first copy that arrives out of time order (logs given newest first)', async () => {
    const day = 24 * 60 * MIN;
    const { byId, stats } = await run([
      decision('b1', day),
      outcome('cb', 'b1', day + MIN),
      decision('a1', 0),
      outcome('ca', 'a1', MIN),
      decision('a2', 1000),
    ]);
    expect([...byId.keys()].sort()).toEqual(['a1', 'a2', 'b1']);
    expect(byId.get('a1')!.label).toBe(1);
    expect(stats.staleDecisions).toBe(0);
  });

  it('waits for decisions whose outcomes arrived first (another queue batch), and gives up after the window', async () => {
    const { byId, stats } = await run([
      outcome('e1', 'd1', 2000),
      decision('d1', 1000),
      outcome('e9', 'never', 3000),
      outcome('anon', undefined, 3000),
      decision('d2', 100 * MIN),
    ]);
    expect(byId.get('d1')!.label).toBe(1);
    expect(stats.unattributed).toBe(2);
  });

  it('emits decisions as the log clock passes their window, holding only one window in memory', async () => {
    const emittedAt: number[] = [];
    async function* stream() {
      for (let i = 0; i < 100; i++) yield [decision(`d${i}`, i * 10 * MIN)];
    }
    let seen = 0;
    for await (const b of attribute(stream(), JOIN)) {
      seen++;
      emittedAt.push(...b.map((e) => Number(e.decision.id.slice(1))));
      // each batch arrives once the clock is past window + grace of what it emits
      expect(b.length).toBeLessThanOrEqual(100);
    }
    expect(emittedAt).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(seen).toBeGreaterThan(50); // streamed, not all at the end
  });

  it('parses durations', () => {
    expect(parseDuration('30m')).toBe(30 * MIN);
    expect(parseDuration('7d')).toBe(7 * 24 * 60 * MIN);
    expect(() => parseDuration('soon')).toThrow();
  });
});

describe('log reader', () => {
  it('reads folders of .ndjson and .ndjson.gz in name order and skips unreadable lines', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attune-log-'));
    await mkdir(join(dir, 'dt=2026-11-01/hour=00'), { recursive: true });
    await mkdir(join(dir, 'dt=2026-11-01/hour=01'), { recursive: true });
    const lines = (rs: LogRecord[]) => rs.map((r) => JSON.stringify(r)).join('\n') + '\n';
    // one line from the far future (ts 8.64e15): corrupt, and it would stall the attribution clock
    await writeFile(
      join(dir, 'dt=2026-11-01/hour=01/b.ndjson'),
      lines([decision('d3', 3), decision('d-future', 8.64e15)]) + '{broken\n' + '{"no":"id"}\n',
    );
    await writeFile(join(dir, 'dt=2026-11-01/hour=00/a.ndjson.gz'), gzipSync(lines([decision('d1', 1), outcome('e', 'd1', 2)])));
    await writeFile(join(dir, 'dt=2026-11-01/hour=00/notes.txt'), 'ignored');
    const stats: ReadStats = { lines: 0, bad: 0, bytesDone: 0 };
    const ids: string[] = [];
    for await (const b of readRecords(await pathSources(dir), stats)) ids.push(...b.map((r) => r.id));
    expect(ids).toEqual(['d1', 'e', 'd3']);
    expect(stats).toMatchObject({ lines: 6, bad: 3 });
  });

  it('keeps what a truncated gzip file held before the break, and reads on (a partial sync)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attune-log-'));
    const many = Array.from({ length: 2000 }, (_, i) => JSON.stringify(decision(`t${i}`, i))).join('\n') + '\n';
    const whole = gzipSync(many);
    await writeFile(join(dir, 'a.ndjson.gz'), whole.subarray(0, whole.length >> 1));
    await writeFile(join(dir, 'b.ndjson'), JSON.stringify(decision('after', 5000)) + '\n');
    const ids: string[] = [];
    for await (const b of readRecords(await pathSources(dir))) ids.push(...b.map((r) => r.id));
    expect(ids.length).toBeGreaterThan(100);
    expect(ids.slice(0, 3)).toEqual(['t0', 't1', 't2']);
    expect(ids.at(-1)).toBe('after');
  });
});

describe('holdout metrics', () => {
  it('computes AUC like the pairwise definition', () => {
    const m = createMetrics();
    const data: [number, number][] = [];
    let s = 3;
    const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
    for (let i = 0; i < 2000; i++) {
      const p = rnd();
      data.push([p, rnd() < p ? 1 : 0]);
    }
    for (const [p, y] of data) observe(m, p, y);
    let wins = 0,
      pairs = 0;
    for (const [p, y] of data)
      if (y === 1)
        for (const [q, z] of data)
          if (z === 0) {
            pairs++;
            wins += p > q ? 1 : p === q ? 0.5 : 0;
          }
    expect(auc(m)).toBeCloseTo(wins / pairs, 2);
    const rows = calibration(m);
    expect(rows.length).toBeGreaterThanOrEqual(9);
    expect(rows.reduce((s2, r) => s2 + r.count, 0)).toBe(2000);
  });

  it('gives a constant predictor AUC 0.5', () => {
    const m = createMetrics();
    for (let i = 0; i < 100; i++) observe(m, 0.1, i % 10 === 0 ? 1 : 0);
    expect(auc(m)).toBe(0.5);
  });
});
