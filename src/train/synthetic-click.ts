/** The click a synthetic decision gets (log:synth): 5 s after it, received 200 ms later, on the variant it chose. */
import type { DecisionRecord } from '../core/decision-record.ts';
import type { OutcomeEvent } from '../core/outcome-event.ts';

export function syntheticClick(d: DecisionRecord): OutcomeEvent {
  return {
    type: 'outcome',
    v: 1,
    id: `c-${d.id}`,
    ts: d.ts + 5000,
    receivedAt: d.ts + 5200,
    name: 'click',
    decisionId: d.id,
    visitor: d.visitor,
    slot: d.slot,
    variant: d.action,
    ...(d.experiment === undefined ? {} : { experiment: d.experiment }),
  };
}
