/**
 * Synthetic bandit logs with known policy values, for the coverage test of the off-policy
 * intervals (test/unit/ope-coverage.test.ts) and its larger run (bench/quality/ope-coverage.ts).
 *
 * A world: CONTEXTS equally likely contexts, ACTIONS actions, a click rate per (context, action)
 * drawn once from the world's seed around a base rate. A logging policy with known propensities
 * (uniform, or a softmax over a noisy guess of the rates with a floor, so weights reach 1/floor),
 * and target policies scored on another noisy guess: greedy, ε-greedy, softmax. The truth is
 * exact: V(π) = mean over contexts of Σ_a π(a|x)·rate(x, a).
 */
import { createRow, type OpeRow } from './ope.ts';
import { mulberry32 } from './random.ts';

export const ACTIONS = 6;
export const CONTEXTS = 24;

export type Logging = 'uniform' | 'skewed';
export type Target = 'greedy' | 'epsilon-greedy' | 'softmax';

export interface World {
  /** rate[x * ACTIONS + a] */
  readonly rate: Float64Array;
  readonly logging: Float64Array;
  readonly target: Float64Array;
  readonly truth: number;
  readonly loggingValue: number;
}

function softmax(scores: number[], temperature: number, floor: number): number[] {
  const m = Math.max(...scores);
  const e = scores.map((s) => Math.exp((s - m) / temperature));
  const z = e.reduce((s, x) => s + x, 0);
  return e.map((x) => (1 - floor) * (x / z) + floor / scores.length);
}

/** A world with a base click rate (e.g. 0.02), its logging policy and one target policy. */
export function createWorld(base: number, logging: Logging, target: Target, worldSeed = 7): World {
  const r = mulberry32(worldSeed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const logit = Math.log(base / (1 - base));
  const rate = new Float64Array(CONTEXTS * ACTIONS);
  for (let i = 0; i < rate.length; i++) rate[i] = 1 / (1 + Math.exp(-(logit + 0.8 * normal())));
  const guess = (noise: number) => Array.from(rate, (q) => Math.log(q / (1 - q)) + noise * normal());
  const logGuess = guess(1);
  const tGuess = guess(0.5);
  const mu = new Float64Array(rate.length);
  const pi = new Float64Array(rate.length);
  for (let x = 0; x < CONTEXTS; x++) {
    const row = (g: number[]) => g.slice(x * ACTIONS, (x + 1) * ACTIONS);
    const m = logging === 'uniform' ? Array(ACTIONS).fill(1 / ACTIONS) : softmax(row(logGuess), 0.5, 0.1);
    const s = row(tGuess);
    const best = s.indexOf(Math.max(...s));
    const p =
      target === 'softmax'
        ? softmax(s, 0.3, 0)
        : s.map((_, a) => (target === 'greedy' ? 0 : 0.1 / ACTIONS) + (a === best ? (target === 'greedy' ? 1 : 0.9) : 0));
    for (let a = 0; a < ACTIONS; a++) {
      mu[x * ACTIONS + a] = m[a]!;
      pi[x * ACTIONS + a] = p[a]!;
    }
  }
  let truth = 0;
  let loggingValue = 0;
  for (let i = 0; i < rate.length; i++) {
    truth += (pi[i]! * rate[i]!) / CONTEXTS;
    loggingValue += (mu[i]! * rate[i]!) / CONTEXTS;
  }
  return { rate, logging: mu, target: pi, truth, loggingValue };
}

/** n logged rows drawn from the world's logging policy, as OpeRows (one object, refilled). */
export function* syntheticRows(w: World, n: number, seed: number): Generator<OpeRow> {
  const r = mulberry32(seed);
  const row = createRow(ACTIONS);
  row.size = ACTIONS;
  for (let a = 0; a < ACTIONS; a++) row.cells[a] = a;
  for (let i = 0; i < n; i++) {
    const x = Math.floor(r() * CONTEXTS);
    let u = r();
    let a = 0;
    while (a < ACTIONS - 1 && u >= w.logging[x * ACTIONS + a]!) u -= w.logging[x * ACTIONS + a++]!;
    const at = x * ACTIONS + a;
    row.key = (r() * 4294967296) >>> 0;
    row.reward = r() < w.rate[at]! ? 1 : 0;
    row.weight = w.target[at]! / w.logging[at]!;
    row.cell = a;
    for (let b = 0; b < ACTIONS; b++) row.target[b] = w.target[x * ACTIONS + b]!;
    yield row;
  }
}
