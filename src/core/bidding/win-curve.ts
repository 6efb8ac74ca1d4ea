/**
 * The win-rate curve of first-price auctions: W(b) = σ(a + k·ln b), the probability that a
 * bid of b (CPM) wins, which is the distribution function of the highest competing bid.
 * Estimated by maximum likelihood from feedback binned by log-price, so the fit costs the same
 * however long the log is: 64 bins from $0.01 to $100 CPM.
 *
 * Two kinds of feedback: a plain win or loss only says the competing price was below or above
 * our bid (censored: W(b) or 1 − W(b)); a notice reporting `${AUCTION_MIN_TO_WIN}` m says
 * what it was, exactly (the density W′(m)), whether we won or lost. Counting m as a win or a
 * loss just beside our own bid instead (as this module did) puts every such point where we
 * already bid: with exchanges that report m on wins too, the curve turned into a step at our
 * current bid and the shaded bid kept 70 % of the best surplus instead of 99 %.
 */

export interface WinCurve {
  readonly a: number;
  readonly k: number;
}

export const BINS = 64;
const LN_MIN = Math.log(0.01);
const LN_MAX = Math.log(100);
const BIN_WIDTH = (LN_MAX - LN_MIN) / BINS;

/** Used before any feedback: 50% win at $1 CPM, fairly flat. */
export const PRIOR_CURVE: WinCurve = { a: 0, k: 1.5 };

export interface WinStats {
  /** censored feedback: auctions by our bid's bin, and how many of them we won */
  readonly n: Float64Array;
  readonly wins: Float64Array;
  /** exact feedback: reported competing prices (minimum to win) by bin */
  readonly exact: Float64Array;
}

export function createWinStats(): WinStats {
  return { n: new Float64Array(BINS), wins: new Float64Array(BINS), exact: new Float64Array(BINS) };
}

/** How many auctions `s` holds. */
export function observations(s: WinStats): number {
  let n = 0;
  for (let i = 0; i < BINS; i++) n += s.n[i]! + s.exact[i]!;
  return n;
}

export function binOf(price: number): number {
  const b = Math.floor((Math.log(Math.max(price, 1e-6)) - LN_MIN) / BIN_WIDTH);
  return b < 0 ? 0 : b >= BINS ? BINS - 1 : b;
}

/** ln price at the bin's centre */
export function binCenter(bin: number): number {
  return LN_MIN + (bin + 0.5) * BIN_WIDTH;
}

/**
 * Records one auction: our bid, whether it won, and the minimum to win when the exchange said.
 * With the minimum known, the win or loss adds nothing (it follows from bid > m).
 */
export function observe(s: WinStats, bid: number, won: boolean, minToWin?: number): void {
  if (minToWin !== undefined && minToWin > 0 && Number.isFinite(minToWin)) {
    s.exact[binOf(minToWin)]! += 1;
    return;
  }
  const b = binOf(bid);
  s.n[b]! += 1;
  if (won) s.wins[b]! += 1;
}

export function winProb(c: WinCurve, bid: number): number {
  return bid <= 0 ? 0 : 1 / (1 + Math.exp(-(c.a + c.k * Math.log(bid))));
}

/** ln(1 + eˣ) without overflow */
const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/** The binned log-likelihood of (a, k), with the ridge pull toward `start` (−∞ where undefined). */
function logLikelihood(s: WinStats, a: number, k: number, start: WinCurve, prior: number): number {
  let ll = -0.5 * prior * ((a - start.a) ** 2 + (k - start.k) ** 2);
  for (let i = 0; i < BINS; i++) {
    const n = s.n[i]!;
    const e = s.exact[i]!;
    if (n === 0 && e === 0) continue;
    const z = a + k * binCenter(i);
    const lnP = -softplus(-z); // ln σ(z)
    const lnQ = -softplus(z); // ln(1 − σ(z))
    ll += s.wins[i]! * lnP + (n - s.wins[i]!) * lnQ;
    if (e > 0) {
      if (!(k > 0)) return -Infinity;
      ll += e * (Math.log(k) + lnP + lnQ);
    }
  }
  return ll;
}

/**
 * Fits (a, k) by Newton's method on the binned log-likelihood, with a ridge pull of strength
 * `prior` observations toward `start` so a few auctions cannot produce a wild curve. With
 * p = σ(a + k·x) at a bin's ln-price x, a censored auction adds ln p (won) or ln(1 − p) (lost);
 * an exact competing price adds the log density in x, ln k + ln p + ln(1 − p). The
 * log-likelihood is concave, and each step is halved until it does not lower it (backtracking):
 * plain Newton from the prior's $1 median overshot markets far from $1 (a $10 market fitted at
 * a $33 median, one at $0.05 kept none of the surplus).
 */
export function fitWinCurve(s: WinStats, start: WinCurve = PRIOR_CURVE, prior = 1): WinCurve {
  let a = start.a;
  let k = start.k;
  let ll = logLikelihood(s, a, k, start, prior);
  for (let iter = 0; iter < 100; iter++) {
    let ga = -prior * (a - start.a);
    let gk = -prior * (k - start.k);
    let haa = prior;
    let hak = 0;
    let hkk = prior;
    for (let i = 0; i < BINS; i++) {
      const n = s.n[i]!;
      const e = s.exact[i]!;
      if (n === 0 && e === 0) continue;
      const x = binCenter(i);
      const p = 1 / (1 + Math.exp(-(a + k * x)));
      // censored: wins − n·p; exact: e·(1 − 2p), and e/k from ln k
      const r = s.wins[i]! - n * p + e * (1 - 2 * p);
      const w = (n + 2 * e) * p * (1 - p);
      ga += r;
      gk += r * x + e / k;
      haa += w;
      hak += w * x;
      hkk += w * x * x + e / (k * k);
    }
    const det = haa * hkk - hak * hak;
    if (!(det > 1e-12)) break;
    const da = (hkk * ga - hak * gk) / det;
    const dk = (haa * gk - hak * ga) / det;
    let t = 1;
    let next = logLikelihood(s, a + da, k + dk, start, prior);
    while (!(next >= ll - 1e-12) && t > 1e-12) {
      t /= 2;
      next = logLikelihood(s, a + t * da, k + t * dk, start, prior);
    }
    if (!(next >= ll - 1e-12)) break; // no step improves: at the optimum, to rounding
    a += t * da;
    k += t * dk;
    ll = next;
    if (Math.abs(t * da) + Math.abs(t * dk) < 1e-9) break;
  }
  // a curve that falls with price is noise: keep it monotone
  return { a, k: Math.max(k, 0.05) };
}

/**
 * The first-price bid maximizing expected surplus (v − b)·W(b) over [floor, v]. Its
 * first-order condition g(b) = (v − b)(1 − W(b))·k − b = 0 is monotone: with
 * W(b) = σ(a + k·ln b) and s = 1 − W(b) = 1 / (1 + eᵃ·bᵏ),
 *   g′(b) = −k·s − (v − b)·k²·s·(1 − s) / b − 1 ≤ −1,
 * so Newton's method, safeguarded by a shrinking bracket (bisection whenever a step leaves it
 * or fails to halve the one before last), converges in a few steps of one `pow` each. And since |g′| ≥ 1,
 * |b − optimum| ≤ |g(b)|: the search stops as soon as |g(b)| is within the tolerance, a bound,
 * not a guess. Curves so extreme that eᵃ over- or underflows (|a| > 600) take the log form.
 * Returns null when even the floor leaves no surplus.
 */
export function shadeBid(value: number, curve: WinCurve, floor = 0): number | null {
  if (value <= floor) return null;
  const a = curve.a;
  const k = curve.k;
  const ea = Math.exp(a);
  const direct = Math.abs(a) < 600;
  const lose = (b: number) => 1 / (1 + (direct ? ea * Math.pow(b, k) : Math.exp(a + k * Math.log(b))));
  let lo = Math.max(floor, value * 1e-4);
  const glo = (value - lo) * k * lose(lo) - lo;
  if (glo <= 0) return lo;
  let hi = value; // g(value) = −value
  // to 0.01% of the value: far below a price increment
  const tol = 1e-4 * value;
  let x = hi - (value * (hi - lo)) / (value + glo); // first guess: the secant through both ends
  let step = hi - lo;
  let stepBefore = step;
  for (let i = 0; i < 100; i++) {
    const s = lose(x);
    const gx = (value - x) * k * s - x;
    if (Math.abs(gx) <= 0.5 * tol) return x;
    if (gx > 0) lo = x;
    else hi = x;
    if (hi - lo <= tol) break;
    const newton = gx / (-k * s - ((value - x) * k * k * s * (1 - s)) / x - 1);
    stepBefore = step;
    // g is S-shaped where the curve is steep: Newton from a flat stretch overshoots to the
    // other one and back. Bisect when its step leaves the bracket or does not halve the step
    // before last, so the search is never slower than bisection.
    if (!(x - newton > lo && x - newton < hi) || Math.abs(2 * newton) > Math.abs(stepBefore)) {
      step = 0.5 * (hi - lo);
      x = lo + step;
    } else {
      step = newton;
      x -= newton;
    }
  }
  return 0.5 * (lo + hi);
}
