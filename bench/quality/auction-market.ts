/**
 * A simulated first-price auction market with known click rates, comparing how a $1-per-click
 * advertiser spends its money:
 *   - flat: one CPM for every impression (set so it spends what the shaded bidder spends);
 *   - value, truthful: bid = value per click × pCTR × 1000, unshaded;
 *   - value + shading: the same value, shaded by the win curve learned online from win/loss
 *     feedback (refit every 5,000 auctions from the prior, as the edge bidder would be);
 *   - value + oracle shading: shaded with the market's true win curve (the ceiling).
 * Each impression has a true click rate; our pCTR sees it through noise (a model is never
 * exact). Competing bids are log-normal and higher on better impressions (others have models
 * too). Surplus = clicks × $1 − spend. Seeded: the same figures every run.
 * Run: npm run bench:market   (N=… for more auctions)
 */
import { createWinStats, fitWinCurve, observe, PRIOR_CURVE, shadeBid, type WinCurve } from '../../src/core/bidding/win-curve.ts';

const N = Number(process.env.N ?? 200_000);
const VALUE_PER_CLICK = 1;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}
function gauss(u: () => number): number {
  return Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
}
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

interface Imp {
  ctr: number;
  pctr: number;
  other: number;
  clickU: number;
}

function market(seed: number): Imp[] {
  const u = rng(seed);
  const out: Imp[] = [];
  for (let i = 0; i < N; i++) {
    const z = -6 + 1.1 * gauss(u); // true logit: CTR median ~0.25%, a long tail of good impressions
    const ctr = sigmoid(z);
    const pctr = sigmoid(z + 0.35 * gauss(u)); // our model's estimate
    const other = Math.exp(Math.log(1.2) + 0.45 * (z + 6) + 0.5 * gauss(u)); // best competing CPM
    out.push({ ctr, pctr, other, clickU: u() });
  }
  return out;
}

interface Outcome {
  name: string;
  wins: number;
  clicks: number;
  spend: number;
}

function play(
  name: string,
  imps: Imp[],
  bidOf: (imp: Imp, i: number) => number,
  feedback?: (bid: number, won: boolean, other: number) => void,
): Outcome {
  let wins = 0,
    clicks = 0,
    spend = 0;
  for (let i = 0; i < imps.length; i++) {
    const imp = imps[i]!;
    const bid = bidOf(imp, i);
    const won = bid > imp.other;
    feedback?.(bid, won, imp.other);
    if (!won) continue;
    wins++;
    spend += bid / 1000;
    if (imp.clickU < imp.ctr) clicks++;
  }
  return { name, wins, clicks, spend };
}

// the market's true win curve (for the oracle): fit on a large sample of truthful-bid outcomes
function oracleCurve(imps: Imp[]): WinCurve {
  const s = createWinStats();
  const u = rng(99);
  for (const imp of imps) {
    const bid = Math.exp(Math.log(0.05) + u() * Math.log(400));
    observe(s, bid, bid > imp.other);
  }
  return fitWinCurve(s);
}

const imps = market(2026);
const value = (imp: Imp) => VALUE_PER_CLICK * imp.pctr * 1000;

// value + shading, learning online
const stats = createWinStats();
let curve = PRIOR_CURVE;
let seen = 0;
const shaded = play(
  'value + learned shading',
  imps,
  (imp) => shadeBid(value(imp), curve) ?? 0,
  (bid, won, other) => {
    observe(stats, bid, won, won ? undefined : other);
    if (++seen % 5000 === 0) curve = fitWinCurve(stats);
  },
);
const learned = curve;
const oracle = oracleCurve(imps);
const oracleRun = play('value + oracle shading', imps, (imp) => shadeBid(value(imp), oracle) ?? 0);
const truthful = play('value, truthful (unshaded)', imps, (imp) => value(imp));

// flat CPM that spends what the shaded bidder spent (bisection on the bid)
let lo = 0.01,
  hi = 100;
let flat: Outcome = play('flat', imps, () => lo);
for (let i = 0; i < 40; i++) {
  const mid = Math.sqrt(lo * hi);
  flat = play('flat', imps, () => mid);
  if (flat.spend > shaded.spend) hi = mid;
  else lo = mid;
}
const flatCpm = Math.sqrt(lo * hi);
flat = { ...play(`flat $${flatCpm.toFixed(3)} CPM (same spend)`, imps, () => flatCpm) };

const rows = [flat, truthful, shaded, oracleRun];
console.log(
  `\n${N.toLocaleString()} first-price auctions, value $${VALUE_PER_CLICK}/click, mean true CTR ${((imps.reduce((a, x) => a + x.ctr, 0) / N) * 100).toFixed(3)}%`,
);
console.log('strategy                               wins   clicks     spend      CPC   surplus  surplus/$');
for (const r of rows) {
  const surplus = r.clicks * VALUE_PER_CLICK - r.spend;
  console.log(
    `${r.name.padEnd(36)} ${String(r.wins).padStart(7)} ${String(r.clicks).padStart(8)} ${r.spend.toFixed(2).padStart(9)} ${(r.clicks ? r.spend / r.clicks : 0).toFixed(3).padStart(8)} ${surplus.toFixed(2).padStart(9)} ${(r.spend ? surplus / r.spend : 0).toFixed(2).padStart(10)}`,
  );
}
const s = shaded.clicks - shaded.spend;
const f = flat.clicks - flat.spend;
console.log(
  `\nlearned curve a=${learned.a.toFixed(3)} k=${learned.k.toFixed(3)}; oracle a=${oracle.a.toFixed(3)} k=${oracle.k.toFixed(3)}`,
);
console.log(
  `shaded vs flat at equal spend: ${(shaded.clicks / flat.clicks).toFixed(2)}× the clicks, CPC ${(shaded.spend / shaded.clicks / (flat.spend / flat.clicks)).toFixed(2)}×, surplus ${s.toFixed(2)} vs ${f.toFixed(2)}`,
);
console.log('\nreproduce: npm run bench:market');
