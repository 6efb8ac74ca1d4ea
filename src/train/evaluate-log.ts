/**
 * Attributed examples → the rows ope.ts estimates from: the loop shared by the CLIs (evaluate,
 * and train's publish gate) and the tests. Reading the log is the caller's business.
 */
import { murmur3 } from '../core/murmur3.ts';
import type { Example } from './attribution.ts';
import type { CandidatePolicy, RewardModel } from './candidate-policy.ts';
import { CliError } from './cli.ts';
import { addRow, createOpe, createRow } from './ope.ts';
import { type OpeResult, opeResult } from './ope-bounds.ts';
import { opeWarnings } from './ope-warnings.ts';

export interface EvaluateOptions {
  readonly policy: CandidatePolicy;
  /** an outside reward model for DR and DM, fitted on other data; default: cross-fitted cell means */
  readonly reward?: RewardModel | undefined;
  /** reward per example: the label (CTR, conversion rate) or its value (revenue) */
  readonly target: 'label' | 'value';
  readonly slot?: string | undefined;
  /** decisions of this kind only (train's gate: the kind it learned) */
  readonly kind?: string | undefined;
  /** decisions from `from` (inclusive) to `to` (exclusive), ms since epoch; unset: unbounded */
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  readonly replicates?: number;
  readonly seed?: number;
  readonly folds?: number;
}

export interface EvaluateReport extends OpeResult {
  /** decisions skipped: no candidates, a propensity outside (0, 1], the logged action not among the candidates, no policy opinion, or an unreadable context */
  readonly skipped: number;
  /** decisions outside the window (or of another slot or kind) */
  readonly outside: number;
  readonly warnings: string[];
}

const KEY_SEED = 0x0fe1;

export async function evaluateExamples(batches: AsyncIterable<readonly Example[]>, o: EvaluateOptions): Promise<EvaluateReport> {
  const ope = createOpe({
    replicates: o.replicates,
    seed: o.seed,
    folds: o.folds,
    reward: o.reward ? 'fixed' : 'cells',
    // a label is 0 or 1; a value (revenue) has no known ceiling: the largest one seen stands in
    rewardMax: o.target === 'label' ? 1 : undefined,
  });
  const cellIds = new Map<string, number>();
  const cellOf = (slot: string, action: string) => {
    const k = `${slot}\u0000${action}`;
    let id = cellIds.get(k);
    if (id === undefined) cellIds.set(k, (id = cellIds.size));
    return id;
  };
  let row = createRow(64);
  let q = new Float64Array(64);
  const from = o.from ?? -Infinity;
  const to = o.to ?? Infinity;
  let skipped = 0;
  let outside = 0;
  for await (const batch of batches)
    for (const ex of batch) {
      const d = ex.decision;
      if ((o.slot !== undefined && d.slot !== o.slot) || (o.kind !== undefined && d.kind !== o.kind) || !(d.ts >= from && d.ts < to)) {
        outside++;
        continue;
      }
      // a record from another writer may lack candidates; a propensity outside (0, 1] is corrupt
      if (!Array.isArray(d.candidates) || !(d.propensity > 0 && d.propensity <= 1)) {
        skipped++;
        continue;
      }
      const k = d.candidates.length;
      const a = d.candidates.indexOf(d.action);
      if (a < 0) {
        skipped++;
        continue;
      }
      if (k > row.target.length) {
        row = createRow(k);
        q = new Float64Array(k);
      }
      // A context the extractor cannot read (another writer's record) is skipped, as training does.
      try {
        if (!o.policy(d, row.target)) {
          skipped++;
          continue;
        }
        o.reward?.(d, q);
      } catch {
        skipped++;
        continue;
      }
      row.key = murmur3(d.id, KEY_SEED);
      row.reward = o.target === 'value' ? ex.value : ex.label;
      row.weight = row.target[a]! / d.propensity;
      row.size = k;
      if (o.reward) {
        let qPolicy = 0;
        for (let i = 0; i < k; i++) qPolicy += row.target[i]! * q[i]!;
        row.qLogged = q[a]!;
        row.qPolicy = qPolicy;
      } else {
        for (let i = 0; i < k; i++) row.cells[i] = cellOf(d.slot, d.candidates[i]!);
        row.cell = row.cells[a]!;
      }
      addRow(ope, row);
    }
  if (ope.n === 0)
    throw new CliError(
      `no decisions with propensities to evaluate in the window (${outside} outside it or of another slot, ${skipped} skipped)`,
    );
  const result = opeResult(ope);
  return { ...result, skipped, outside, warnings: opeWarnings(result) };
}
