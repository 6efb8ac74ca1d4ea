/**
 * Joins outcomes to the decisions they follow (by `decisionId`) within an attribution window,
 * streaming: a decision is held until the log's clock (the largest `ts` seen) has passed its
 * window plus a grace period for late-arriving events, then emitted with its label. Memory is
 * the decisions and outcomes of one window, not the log.
 *
 * Exactly-once counting: the log is at-least-once (client resends, queue redeliveries), so
 * outcomes are deduplicated by event id, and decisions by record id, for as long as either
 * can still matter (their window plus grace). Outcomes that arrive before their decision
 * (a different queue batch) wait for it as orphans, for the same span.
 */
import type { DecisionRecord } from '../core/decision-record.ts';
import { BID_OUTCOMES, type LogRecord, type OutcomeEvent } from '../core/outcome-event.ts';
import { idKey, recentKeys } from './recent-keys.ts';

export interface JoinOptions {
  /** outcome names that make the label 1 (e.g. click; conversion, purchase) */
  readonly labels: ReadonlySet<string>;
  /** ms after the decision during which an outcome counts */
  readonly windowMs: number;
  /** ms the log's clock must pass the window by before a decision is final */
  readonly graceMs: number;
  /** ms an outcome's (client) time may precede its decision's and still count */
  readonly skewMs: number;
  /**
   * outcome names that say the decision was shown at all (bids: `win`, `billing`); when set, a
   * decision without one in its window is no example (a lost bid's ad was never seen, so its
   * missing click says nothing about the ad's click rate)
   */
  readonly served?: ReadonlySet<string> | undefined;
}

export interface Example {
  readonly decision: DecisionRecord;
  /** 1 when a label outcome followed within the window */
  readonly label: 0 | 1;
  /** sum of `value` over label outcomes (revenue) */
  readonly value: number;
}

export interface JoinStats {
  decisions: number;
  outcomes: number;
  attributed: number;
  duplicateDecisions: number;
  /**
   * copies of decisions emitted long before (the log's clock had passed twice their window and
   * grace, beyond the exact dedupe): a dead-letter replay, which would otherwise count twice.
   * Recognized by recent-keys.ts, which remembers the last 2–4 million decisions emitted: a
   * replay from further back counts again. A first copy that merely arrives late is still read.
   */
  staleDecisions: number;
  duplicateOutcomes: number;
  /** label outcomes with no decision id, or whose decision never came within the window */
  unattributed: number;
  /** label outcomes outside their decision's window */
  late: number;
  /** decisions left out because no `served` outcome came (lost bids) */
  unserved: number;
  /**
   * outcomes of a bid named like a notice or an ad click but without the exchange our notice and
   * click routes always write: sent to `/v1/events` by anyone, so they count for nothing
   */
  unverified: number;
}

interface Pending {
  decision: DecisionRecord;
  /** a `served` outcome came (always true when the options name none) */
  served: boolean;
  label: 0 | 1;
  value: number;
  /** ids of the outcomes already counted for this decision */
  seen: Set<string> | null;
}

export function newJoinStats(): JoinStats {
  return {
    decisions: 0,
    outcomes: 0,
    attributed: 0,
    duplicateDecisions: 0,
    staleDecisions: 0,
    duplicateOutcomes: 0,
    unattributed: 0,
    late: 0,
    unserved: 0,
    unverified: 0,
  };
}

export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(s.trim());
  if (!m) throw new Error(`bad duration "${s}" (use e.g. 30m, 1h, 7d)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/**
 * A first-in first-out list of keys with times, for expiry in arrival order. Deleting from the
 * front of a Map and iterating it again is O(deleted) per pass in V8 (holes stay until rehash),
 * which made a per-record flush quadratic; an array with a moving head is O(1).
 */
interface Fifo<T> {
  items: T[];
  head: number;
}
const fifo = <T>(): Fifo<T> => ({ items: [], head: 0 });
function compact<T>(q: Fifo<T>): void {
  if (q.head > 4096 && q.head * 2 > q.items.length) {
    q.items = q.items.slice(q.head);
    q.head = 0;
  }
}

/** Batches of records in, batches of examples out (see log-reader.ts for why batches). */
export async function* attribute(
  batches: AsyncIterable<readonly LogRecord[]> | Iterable<readonly LogRecord[]>,
  opts: JoinOptions,
  stats: JoinStats = newJoinStats(),
): AsyncGenerator<Example[]> {
  const pending = new Map<string, Pending>();
  const pendingOrder = fifo<Pending>(); // ≈ time order
  const orphans = new Map<string, OutcomeEvent[]>();
  const orphanOrder = fifo<[string, number]>();
  const done = new Set<string>(); // emitted decision ids, for dedupe
  const emitted = recentKeys(); // and beyond `done`'s span, in bounded memory
  const doneOrder = fifo<[string, number]>();
  const horizon = opts.windowMs + opts.graceMs;
  let clock = -Infinity;

  const count = (p: Pending, o: OutcomeEvent): void => {
    // A bid's clicks and notices come from the signed click tracker and notice routes, which
    // name the exchange; a `click` posted to /v1/events naming a bid's decision id does not.
    if (p.decision.kind === 'bid' && BID_OUTCOMES.has(o.name) && o.exchange === undefined) {
      stats.unverified++;
      return;
    }
    // a label (a click) proves the decision was shown as much as a win notice does
    if (opts.served !== undefined && (opts.served.has(o.name) || opts.labels.has(o.name))) {
      const dt = o.ts - p.decision.ts;
      if (dt >= -opts.skewMs && dt <= opts.windowMs) p.served = true;
    }
    if (!opts.labels.has(o.name)) return;
    if (p.seen?.has(o.id)) {
      stats.duplicateOutcomes++;
      return;
    }
    (p.seen ??= new Set()).add(o.id);
    const dt = o.ts - p.decision.ts;
    if (dt < -opts.skewMs || dt > opts.windowMs) {
      stats.late++;
      return;
    }
    stats.attributed++;
    p.label = 1;
    if (typeof o.value === 'number') p.value += o.value;
  };

  const flush = (until: number, out: Example[]): void => {
    const pq = pendingOrder;
    while (pq.head < pq.items.length && pq.items[pq.head]!.decision.ts + horizon <= until) {
      const p = pq.items[pq.head++]!;
      const id = p.decision.id;
      pending.delete(id);
      done.add(id);
      emitted.seen(idKey(id));
      doneOrder.items.push([id, p.decision.ts]);
      if (p.served) out.push({ decision: p.decision, label: p.label, value: p.value });
      else stats.unserved++;
    }
    compact(pq);
    const dq = doneOrder;
    while (dq.head < dq.items.length && dq.items[dq.head]![1] + 2 * horizon <= until) done.delete(dq.items[dq.head++]![0]);
    compact(dq);
    const oq = orphanOrder;
    while (oq.head < oq.items.length && oq.items[oq.head]![1] + horizon <= until) {
      const id = oq.items[oq.head++]![0];
      const list = orphans.get(id);
      if (!list) continue; // its decision came
      orphans.delete(id);
      for (const o of list) if (opts.labels.has(o.name)) stats.unattributed++;
    }
    compact(oq);
  };

  for await (const batch of batches) {
    const out: Example[] = [];
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!;
      if (r.type === 'decision') {
        if (pending.has(r.id) || done.has(r.id)) {
          stats.duplicateDecisions++;
          continue;
        }
        // `seen` adds the key of a first copy, which is about to be emitted anyway
        if (r.ts + 2 * horizon <= clock && emitted.seen(idKey(r.id))) {
          stats.staleDecisions++;
          continue;
        }
        stats.decisions++;
        const p: Pending = { decision: r, served: opts.served === undefined, label: 0, value: 0, seen: null };
        pending.set(r.id, p);
        pendingOrder.items.push(p);
        const early = orphans.get(r.id);
        if (early) {
          orphans.delete(r.id);
          for (const o of early) count(p, o);
        }
      } else if (r.type === 'outcome') {
        stats.outcomes++;
        const id = r.decisionId;
        const p = id === undefined ? undefined : pending.get(id);
        if (p) count(p, r);
        else if (id !== undefined && !done.has(id)) {
          const list = orphans.get(id);
          if (list) list.push(r);
          else {
            orphans.set(id, [r]);
            orphanOrder.items.push([id, r.ts]);
          }
        } else if (opts.labels.has(r.name)) {
          // no decision id, or its decision was already final: too late to count
          if (id === undefined) stats.unattributed++;
          else stats.late++;
        }
      } else continue;
      if (r.ts > clock) {
        clock = r.ts;
        flush(clock, out);
      }
    }
    if (out.length > 0) yield out;
  }
  const rest: Example[] = [];
  flush(Infinity, rest);
  if (rest.length > 0) yield rest;
}
