/**
 * The state of one off-policy estimate (ope.ts) and the row it reads, in their own file because
 * both the estimators (ope.ts) and the cross-fitted cell model (ope-cells.ts) work on them.
 */
/** One logged decision as the estimators see it: the caller fills one object and reuses it. */
export interface OpeRow {
  /** a well-mixed 32-bit hash of the decision id: its bootstrap block and cross-fitting fold */
  key: number;
  reward: number;
  /** π(a|x) / μ(a|x) for the logged action a */
  weight: number;
  /** the logged action's cell (an index from the caller's cell table) */
  cell: number;
  /** the candidates' cells and π over them, in the first `size` entries */
  size: number;
  cells: Int32Array;
  target: Float64Array;
  /** with a fixed reward model: q(x, a) and Σ_a' π(a'|x)·q(x, a') */
  qLogged: number;
  qPolicy: number;
}

export interface Ope {
  readonly replicates: number;
  readonly seed: number;
  readonly level: number;
  readonly folds: number;
  readonly rewardMax: number | undefined;
  readonly fixed: boolean;
  n: number;
  readonly blocks: Float64Array;
  /** per cell: BLOCKS × 5 sums (ope-cells.ts) */
  readonly cells: Float64Array[];
  sumW2: number;
  sumX2: number;
  sumR2: number;
  maxWeight: number;
  maxReward: number;
  minReward: number;
  matched: number;
  matchedRewards: number;
}
