/**
 * The learned next-basket model of an `itemknn` blob: how likely an item is to be in a
 * customer's next order, given their past orders. Two logistic models share one scale (log-odds),
 * so one ranking mixes them:
 *
 * - an item the customer bought before (a repeat):
 *   z = bias + logCount·ln(1 + c) + share·c/n + logRecency·ln(1 + r) + logOrders·ln n + prior_repeat[item]
 *   c: how many of the n orders held it; r: how many orders ago it was last bought (0 = the newest);
 *   the prior folds in what the trainer knew of the item (how often its buyers buy it again, its
 *   popularity and its trend), so the Worker reads one byte per item;
 * - an item they did not buy (found through the neighbours of what they bought):
 *   z = bias + logSim·ln S + prior_explore[item], S = Σ over sources h of (c_h / n)·s(h, item),
 *   the sources being the `sources` items they bought most often (a bound on the work per call;
 *   context items and viewed items join them, see recommend.ts).
 *
 * Fitted by `recs:train` on a validation split (src/train/recs/next-basket.ts); stored as
 * `meta.nextBasket` plus two u8 sections (the priors, quantized over [lo, hi] in the meta):
 *
 * | tag  | dtype | length | content                                          |
 * | ---- | ----- | ------ | ------------------------------------------------ |
 * | IRPR | u8    | n      | repeat prior per item: lo + u·(hi − lo)/255       |
 * | IXPR | u8    | n      | explore prior per item, the same way             |
 *
 * A blob without them (trained before this model existed) still loads: it ranks orders by the
 * DEFAULT parameters below, the customer's own purchase counts (ties: the most recent) and then
 * similarity.
 */

export interface HistoryWeights {
  readonly bias: number;
  readonly logCount: number;
  readonly share: number;
  readonly logRecency: number;
  readonly logOrders: number;
}

export interface ExploreWeights {
  readonly bias: number;
  readonly logSim: number;
}

export interface NextBasketParams {
  readonly history: HistoryWeights;
  readonly explore: ExploreWeights;
  /** at most this many bought items are blended for similarity (the most often bought) */
  readonly sources: number;
}

/** The meta field as stored: the parameters and the priors' quantization ranges. */
export interface NextBasketMeta extends NextBasketParams {
  readonly v: 1;
  readonly repeatPrior: readonly [number, number];
  readonly explorePrior: readonly [number, number];
  /** trainer facts: validation window, cases, fit quality (informational) */
  readonly fit?: Readonly<Record<string, unknown>>;
}

export interface NextBasket {
  readonly params: NextBasketParams;
  /** false: the defaults of a model trained without a next-basket fit */
  readonly learned: boolean;
  readonly repeatPrior: Uint8Array | null;
  readonly repeatLo: number;
  readonly repeatStep: number;
  readonly explorePrior: Uint8Array | null;
  readonly exploreLo: number;
  readonly exploreStep: number;
}

/** The most sources a call blends by default: like the 50 recent items of a visitor. */
export const DEFAULT_SOURCES = 50;

/**
 * Own purchase counts, ties to the most recent, then similarity far below every bought item:
 * the rule a model without a fitted section falls back to (and the baseline recs:eval beats).
 */
export const DEFAULT_NEXT_BASKET: NextBasketParams = {
  history: { bias: 0, logCount: 1, share: 0, logRecency: -0.01, logOrders: 0 },
  explore: { bias: -20, logSim: 1 },
  sources: DEFAULT_SOURCES,
};

const DEFAULTS: NextBasket = {
  params: DEFAULT_NEXT_BASKET,
  learned: false,
  repeatPrior: null,
  repeatLo: 0,
  repeatStep: 0,
  explorePrior: null,
  exploreLo: 0,
  exploreStep: 0,
};

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const range = (x: unknown): x is [number, number] => Array.isArray(x) && x.length === 2 && finite(x[0]) && finite(x[1]) && x[0] <= x[1];

/**
 * The next-basket part of a decoded blob: `undefined` meta and sections give the defaults; a
 * present but broken part is `null` (the whole model is then refused as malformed).
 */
export function nextBasketOf(meta: unknown, repeat: unknown, explore: unknown, n: number): NextBasket | null {
  if (meta === undefined && repeat === undefined && explore === undefined) return DEFAULTS;
  const m = meta as Partial<NextBasketMeta> | undefined;
  const h = m?.history;
  const e = m?.explore;
  if (
    m?.v !== 1 ||
    h === undefined ||
    e === undefined ||
    ![h.bias, h.logCount, h.share, h.logRecency, h.logOrders, e.bias, e.logSim].every(finite) ||
    !(Number.isInteger(m.sources) && m.sources! >= 1 && m.sources! <= 10_000) ||
    !range(m.repeatPrior) ||
    !range(m.explorePrior) ||
    !(repeat instanceof Uint8Array && repeat.length === n) ||
    !(explore instanceof Uint8Array && explore.length === n)
  ) {
    return null;
  }
  return {
    params: {
      history: { bias: h.bias, logCount: h.logCount, share: h.share, logRecency: h.logRecency, logOrders: h.logOrders },
      explore: { bias: e.bias, logSim: e.logSim },
      sources: m.sources!,
    },
    learned: true,
    repeatPrior: repeat,
    repeatLo: m.repeatPrior[0],
    repeatStep: (m.repeatPrior[1] - m.repeatPrior[0]) / 255,
    explorePrior: explore,
    exploreLo: m.explorePrior[0],
    exploreStep: (m.explorePrior[1] - m.explorePrior[0]) / 255,
  };
}

/** The log-odds of a bought item with this `prior`, held by `c` of `n` orders, last bought `r` orders ago. */
export function repeatLogitOf(p: NextBasketParams = DEFAULT_NEXT_BASKET, prior: number, c: number, r: number, n: number): number {
  const w = p.history;
  // in the order orders.ts adds them (it computes the first term once a call): the same bits
  const base = w.bias + w.logOrders * Math.log(n);
  return base + w.logCount * Math.log1p(c) + (w.share / n) * c + w.logRecency * Math.log1p(r) + prior;
}

/** The log-odds of an item not bought before with this `prior`, at similarity `sim` (> 0) to what was. */
export function exploreLogitOf(p: NextBasketParams = DEFAULT_NEXT_BASKET, prior: number, sim: number): number {
  return p.explore.bias + p.explore.logSim * Math.log(sim) + prior;
}

/** `repeatLogitOf` for item `j` of a decoded model. */
export const repeatLogit = (nb: NextBasket, j: number, c: number, r: number, n: number): number =>
  repeatLogitOf(nb.params, nb.repeatPrior === null ? 0 : nb.repeatLo + nb.repeatPrior[j]! * nb.repeatStep, c, r, n);

/** `exploreLogitOf` for item `j` of a decoded model. */
export const exploreLogit = (nb: NextBasket, j: number, sim: number): number =>
  exploreLogitOf(nb.params, nb.explorePrior === null ? 0 : nb.exploreLo + nb.explorePrior[j]! * nb.exploreStep, sim);

/** u8 codes of `values` over [lo, hi] (the encoder's half of the priors). */
export function quantizePriors(values: readonly number[]): { codes: Uint8Array; lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!(lo <= hi)) return { codes: new Uint8Array(values.length), lo: 0, hi: 0 };
  const step = (hi - lo) / 255;
  const codes = Uint8Array.from(values, (v) => (step === 0 ? 0 : Math.round((v - lo) / step)));
  return { codes, lo, hi };
}
