// One case suite, two joins: the streaming JS join (attribution.ts) and the SQL one DuckDB runs
// (log/attribution-sql.ts, through open-log and examples.ts), on the same records.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../../src/core/decision-record.ts';
import type { LogRecord, OutcomeEvent } from '../../src/core/outcome-event.ts';
import { attribute, type JoinOptions, newJoinStats } from '../../src/train/attribution.ts';
import { logExamples, newExampleStats } from '../../src/train/log/examples.ts';
import { openLog } from '../../src/train/log/open-log.ts';
import { loggedContextOf } from '../../src/train/synthetic-log.ts';

const MIN = 60_000;
const T = Date.UTC(2026, 10, 1);
const JOIN: JoinOptions = { labels: new Set(['click', 'purchase']), windowMs: 30 * MIN, graceMs: 5 * MIN, skewMs: MIN };
const ctx = loggedContextOf({ device: 'mobile', country: 'US', pageType: 'home', referrer: 'direct', plan: 'free' }, 10, 1);

const decision = (id: string, at: number): DecisionRecord => ({
  type: 'decision',
  v: 1,
  id,
  ts: T + at,
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
  at: number,
  name: OutcomeEvent['name'] = 'click',
  value?: number,
): OutcomeEvent =>
  ({
    type: 'outcome',
    v: 1,
    id,
    ts: T + at,
    receivedAt: T + at,
    name,
    ...(decisionId ? { decisionId } : {}),
    ...(value !== undefined ? { value } : {}),
  }) as OutcomeEvent;

const bid = (id: string, at: number): DecisionRecord => ({ ...decision(id, at), kind: 'bid' });
/** what our notice routes and click tracker write: the exchange named */
const ours = (o: OutcomeEvent): OutcomeEvent => ({ ...o, exchange: 'exchange-a' });

interface Case {
  readonly name: string;
  readonly records: readonly LogRecord[];
  readonly opts?: JoinOptions;
  /** decision id → [label, value] */
  readonly expected: Record<string, [0 | 1, number]>;
  readonly decisions?: number;
  /** bid outcomes without the exchange, which count for nothing */
  readonly unverified?: number;
}

const CASES: Case[] = [
  {
    name: 'labels decisions followed by a label outcome within the window, once per event id',
    records: [
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
    ],
    expected: { d1: [1, 0], d2: [1, 25], d3: [0, 0], d4: [0, 0] },
  },
  {
    name: 'with `served` (bids: win, billing), takes only decisions that were shown',
    opts: { ...JOIN, served: new Set(['win', 'billing']) },
    records: [
      decision('won', 0),
      decision('billed', 1000),
      decision('lost', 2000),
      decision('won-late', 3000),
      outcome('w1', 'won', 500, 'win'),
      outcome('c1', 'won', MIN),
      outcome('b1', 'billed', 1500, 'billing'),
      outcome('l1', 'lost', 2500, 'loss'),
      outcome('w2', 'won-late', 3000 + 31 * MIN, 'win'),
      decision('clicked', 4000),
      outcome('c2', 'clicked', 9000), // a click proves it was shown
      decision('later', 300 * MIN),
    ],
    expected: { won: [1, 0], billed: [0, 0], clicked: [1, 0] },
  },
  {
    name: 'bids learn only from the clicks and notices our routes wrote (they name the exchange), not from /v1/events',
    opts: { ...JOIN, served: new Set(['win', 'billing']) },
    records: [
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
      outcome('forged-4', 'b3', 2600, 'win'), // and so would a forged win notice
      outcome('c-v1', 'v1', 4000), // variant decisions take clicks from /v1/events, as always
      decision('later', 300 * MIN),
    ],
    expected: { b1: [1, 0], b2: [0, 0], v1: [1, 0] },
    unverified: 4,
  },
  {
    name: 'counts a decision once when a copy is replayed hours later',
    records: [decision('d1', 0), outcome('c1', 'd1', MIN), decision('live', 180 * MIN), decision('d1', 0), outcome('c1', 'd1', MIN)],
    expected: { d1: [1, 0], live: [0, 0] },
  },
  {
    name: 'reads a first copy that arrives out of time order, and outcomes that came before their decision',
    records: [
      decision('b1', 24 * 60 * MIN),
      outcome('cb', 'b1', 24 * 60 * MIN + MIN),
      outcome('ea', 'a1', MIN),
      decision('a1', 0),
      decision('a2', 1000),
      outcome('e9', 'never', 3000),
      outcome('anon', undefined, 3000),
    ],
    expected: { a1: [1, 0], a2: [0, 0], b1: [1, 0] },
  },
  {
    name: 'counts an outcome up to the skew before its decision, not earlier',
    records: [decision('d1', 10 * MIN), outcome('ok', 'd1', 10 * MIN - 30_000), decision('d2', 20 * MIN), outcome('no', 'd2', 18 * MIN)],
    expected: { d1: [1, 0], d2: [0, 0] },
  },
];

async function viaJs(c: Case) {
  const stats = newJoinStats();
  const out = new Map<string, [number, number]>();
  async function* one() {
    yield c.records;
  }
  for await (const b of attribute(one(), c.opts ?? JOIN, stats)) for (const e of b) out.set(e.decision.id, [e.label, e.value]);
  return { out, stats };
}

async function viaSql(c: Case) {
  const dir = await mkdtemp(join(tmpdir(), 'attune-attr-'));
  await writeFile(join(dir, 'log.ndjson'), c.records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const log = await openLog({ log: [dir] });
  const stats = newExampleStats();
  const out = new Map<string, [number, number]>();
  try {
    for await (const b of logExamples(log, c.opts ?? JOIN, {}, stats)) for (const e of b) out.set(e.decision.id, [e.label, e.value]);
  } finally {
    await log.close();
  }
  return { out, stats: stats.join };
}

describe('attribution: the JS join and the SQL join on the same cases', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const js = await viaJs(c);
      const sql = await viaSql(c);
      expect(Object.fromEntries(js.out)).toEqual(c.expected);
      expect(Object.fromEntries(sql.out)).toEqual(c.expected);
      expect(sql.stats.decisions).toBe(js.stats.decisions);
      expect(sql.stats.duplicateDecisions).toBe(js.stats.duplicateDecisions + js.stats.staleDecisions);
      expect(sql.stats.unserved).toBe(js.stats.unserved);
      expect(js.stats.unverified).toBe(c.unverified ?? 0);
      expect(sql.stats.unverified).toBe(c.unverified ?? 0);
    }, 60_000);
  }

  it('SQL: an outcome that reaches the edge after its window and grace does not count (the late-record rule)', async () => {
    const late: OutcomeEvent = { ...outcome('c', 'd1', MIN), receivedAt: T + 36 * MIN };
    const onTime: OutcomeEvent = { ...outcome('c', 'd2', MIN), receivedAt: T + 34 * MIN };
    const { out, stats } = await viaSql({ name: '', records: [decision('d1', 0), late, decision('d2', 0), onTime], expected: {} });
    expect(Object.fromEntries(out)).toEqual({ d1: [0, 0], d2: [1, 0] });
    expect(stats).toMatchObject({ attributed: 1, late: 1 });
  }, 60_000);
});
