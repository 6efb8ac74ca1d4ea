/** `npm run campaigns:conversions`: conversions joined to bids from the log, per campaign, day and exchange. */
import { describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../../src/core/decision-record.ts';
import type { LogRecord, OutcomeEvent } from '../../src/core/outcome-event.ts';
import { attributeConversions, collectConversions } from '../../src/train/campaign-conversions.ts';

const DAY = 86_400_000;
const T0 = 20_400 * DAY + 3_600_000;

const bid = (id: string, action: string, ts: number, exchange?: string): DecisionRecord =>
  ({ type: 'decision', v: 1, id, ts, kind: 'bid', action, ...(exchange ? { exchange } : {}) }) as DecisionRecord;
const outcome = (id: string, name: string, decisionId: string | undefined, ts: number, value?: number): OutcomeEvent =>
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

describe('campaign conversions from the log', () => {
  it('counts conversion events within the window after their bid, once each, per campaign, day of the bid and exchange', async () => {
    const log: LogRecord[][] = [
      [
        bid('d1', 'spring/mrec', T0, 'adx'),
        bid('d2', 'spring/mrec', T0 + DAY, 'openx'),
        bid('d3', 'autumn/lead', T0, 'adx'),
        bid('d4', 'spring/mrec', T0), // before exchanges were named
        { ...bid('d5', 'hero/a', T0), kind: 'variant' } as DecisionRecord, // not a bid
      ],
      [
        outcome('c1', 'purchase', 'd1', T0 + 3_600_000, 40),
        outcome('c1', 'purchase', 'd1', T0 + 3_600_000, 40), // the same event twice (at-least-once log)
        outcome('c2', 'conversion', 'd1', T0 + 2 * DAY),
        outcome('c3', 'purchase', 'd2', T0 + DAY + 8 * DAY, 99), // past the 7-day window
        outcome('c4', 'click', 'd3', T0 + 1000), // not a conversion
        outcome('c5', 'purchase', 'd4', T0 - 30_000, 5), // a client clock slightly behind
        outcome('c6', 'purchase', undefined, T0, 5), // names no decision
        outcome('c7', 'purchase', 'd5', T0 + 1000, 5),
      ],
      [bid('d1', 'spring/mrec', T0, 'adx')], // the decision logged again
    ];
    const conversions = await collectConversions(log, new Set(['conversion', 'purchase']));
    const rows = await attributeConversions(log, conversions, 7 * DAY);
    expect(Object.fromEntries(rows)).toEqual({
      spring: [
        { day: new Date(T0).toISOString().slice(0, 10), exchange: 'adx', conversions: 2, value: 40 },
        { day: new Date(T0).toISOString().slice(0, 10), exchange: 'unknown', conversions: 1, value: 5 },
      ],
    }); // autumn's bid had a click, no conversion; spring's openx bid converted too late
  });
});
