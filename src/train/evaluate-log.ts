/** Runs the estimators of ope.ts over attributed examples: the loop shared by the CLI and tests. */
import type { Example } from './attribution.ts';
import type { CandidatePolicy, RewardModel } from './candidate-policy.ts';
import { addExample, createOpe, opeResult, type OpeResult } from './ope.ts';

export interface EvaluateOptions {
  readonly policy: CandidatePolicy;
  readonly reward: RewardModel;
  /** reward per example: the label (CTR, conversion rate) or its value (revenue) */
  readonly target: 'label' | 'value';
  readonly slot?: string | undefined;
  readonly replicates?: number;
  readonly seed?: number;
}

export interface EvaluateReport extends OpeResult {
  /** decisions skipped: no candidates, a propensity outside (0, 1], the logged action not among the candidates, no policy opinion, or an unreadable context */
  readonly skipped: number;
}

export async function evaluateExamples(batches: AsyncIterable<readonly Example[]>, o: EvaluateOptions): Promise<EvaluateReport> {
  const ope = createOpe(o.replicates ?? 500, o.seed ?? 1);
  let pi = new Float64Array(64);
  let q = new Float64Array(64);
  let skipped = 0;
  for await (const batch of batches)
    for (const ex of batch) {
      const d = ex.decision;
      if (o.slot !== undefined && d.slot !== o.slot) continue;
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
      if (k > pi.length) {
        pi = new Float64Array(k);
        q = new Float64Array(k);
      }
      // A context the extractor cannot read (another writer's record) is skipped, as training does.
      try {
        if (!o.policy(d, pi)) {
          skipped++;
          continue;
        }
        o.reward(d, q);
      } catch {
        skipped++;
        continue;
      }
      let qPolicy = 0;
      for (let i = 0; i < k; i++) qPolicy += pi[i]! * q[i]!;
      const r = o.target === 'value' ? ex.value : ex.label;
      addExample(ope, r, pi[a]! / d.propensity, q[a]!, qPolicy);
    }
  if (ope.n === 0) throw new Error('no decisions with propensities to evaluate');
  return { ...opeResult(ope), skipped };
}

/** Per-(slot, action) mean rewards: the default reward model for DR. */
export async function rewardMeans(batches: AsyncIterable<readonly Example[]>, target: 'label' | 'value') {
  const sa = new Map<string, [number, number]>();
  const sl = new Map<string, [number, number]>();
  let sum = 0,
    n = 0;
  for await (const batch of batches)
    for (const ex of batch) {
      const r = target === 'value' ? ex.value : ex.label;
      const k = `${ex.decision.slot}\u0000${ex.decision.action}`;
      const a = sa.get(k) ?? [0, 0];
      a[0] += r;
      a[1]++;
      sa.set(k, a);
      const s = sl.get(ex.decision.slot) ?? [0, 0];
      s[0] += r;
      s[1]++;
      sl.set(ex.decision.slot, s);
      sum += r;
      n++;
    }
  const mean = (m: Map<string, [number, number]>) => new Map([...m].map(([key, [s, c]]) => [key, s / c]));
  return { bySlotAction: mean(sa), bySlot: mean(sl), overall: n ? sum / n : 0 };
}
