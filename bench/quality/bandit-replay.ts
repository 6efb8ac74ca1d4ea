/**
 * Li et al.'s replay method ("Unbiased offline evaluation of contextual-bandit-based news
 * article recommendation algorithms", WSDM 2011) on the uniform-random Open Bandit Dataset log:
 * stream the log in time order; whenever the policy picks the item the uniform logger showed,
 * count the click and let the policy learn from it; otherwise skip the event. Unbiased because
 * the logger was uniform over the 34 items (propensity 1/34, checked below).
 *
 *   node bench/quality/bandit-replay.ts [seeds=200] [path=../shared/data/obd/random/men/men.csv]
 *
 * Seeds vary the policies' own randomness; the log order is fixed. The sample is small
 * (10,000 events, 46 clicks, ≈ 294 matched events per run): read the standard errors.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createBandit } from '../../src/core/bandits/bandit.ts';
import { mulberry32 } from '../../src/core/bandits/rng.ts';
import type { AlgorithmSpec } from '../../src/core/bandits/types.ts';
import { createFeatureVector, extractFeatures, type FeatureInput, type FeatureVector } from '../../src/core/features.ts';

const seeds = Number(process.argv[2] ?? 200);
const file = process.argv[3] ?? path.resolve(process.cwd(), '../shared/data/obd/random/men/men.csv');

interface Event {
  item: number;
  click: number;
  fv: FeatureVector;
}

const BASE: FeatureInput = {
  country: '?',
  region: '?',
  city: '?',
  asn: 0,
  timezone: '?',
  device: '?',
  os: '?',
  browser: '?',
  referrer: '?',
  referrerHost: '',
  utmSource: '',
  utmMedium: '',
  utmCampaign: '',
  utmTerm: '',
  utmContent: '',
  path: '/',
  pageType: 'home',
  hour: 12,
  weekday: 1,
  visits: 1,
  daysSinceLastVisit: -1,
  purchases: 0,
  segments: [],
  attrs: {},
};

function load(): { events: Event[]; arms: number } {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const head = lines[0]!.split(',');
  const col = (n: string) => head.indexOf(n);
  const [ci, cc, cp, cpos] = [col('item_id'), col('click'), col('propensity_score'), col('position')];
  const uf = [0, 1, 2, 3].map((i) => col(`user_feature_${i}`));
  let arms = 0;
  const events = lines.slice(1).map((line) => {
    const f = line.split(',');
    const item = Number(f[ci]);
    arms = Math.max(arms, item + 1);
    const propensity = Number(f[cp]);
    if (Math.abs(propensity - 1 / 34) > 1e-9) throw new Error(`not a uniform log: propensity ${propensity}`);
    // The contextual policy sees the user features and the slot position through the shared extractor.
    const attrs = { uf0: f[uf[0]!]!, uf1: f[uf[1]!]!, uf2: f[uf[2]!]!, uf3: f[uf[3]!]!, position: f[cpos]! };
    return { item, click: Number(f[cc]), fv: extractFeatures({ ...BASE, attrs }, createFeatureVector()) };
  });
  return { events, arms };
}

const { events, arms } = load();
const logged = events.reduce((s, e) => s + e.click, 0) / events.length;

const POLICIES: (AlgorithmSpec | { name: 'uniform' })[] = [
  { name: 'uniform' },
  { name: 'thompson', floor: 0, draws: 1000 },
  { name: 'top-two-thompson', floor: 0, draws: 1000, beta: 0.5 },
  { name: 'linear-thompson', floor: 0, bits: 10 },
  { name: 'ucb1', floor: 0 },
  { name: 'epsilon-greedy', floor: 0, epsilon: 0.1 },
];

function replay(spec: AlgorithmSpec | { name: 'uniform' }, seed: number): { clicks: number; matched: number } {
  const rng = mulberry32(seed * 104_729 + 3);
  const b = spec.name === 'uniform' ? null : createBandit(spec as AlgorithmSpec, arms, seed, { refreshEvery: 10 });
  let clicks = 0;
  let matched = 0;
  for (const e of events) {
    const arm = b === null ? Math.floor(rng() * arms) : b.choose(rng(), e.fv).arm;
    if (arm !== e.item) continue;
    matched++;
    clicks += e.click;
    b?.observe(arm, e.click, e.fv);
  }
  return { clicks, matched };
}

console.log(
  `# Li et al. replay on ${path.relative(process.cwd(), file)}: ${events.length} events, ${arms} arms, logged CTR ${(logged * 100).toFixed(3)} %, ${seeds} seeds`,
);
console.log(`# reproduce: node bench/quality/bandit-replay.ts ${seeds}\n`);
console.log('| policy | replay CTR (mean) | ± s.e. | vs uniform | matched events / run |');
console.log('| --- | ---: | ---: | ---: | ---: |');
let uniform = 0;
for (const spec of POLICIES) {
  // Pool clicks and matches per seed; CTR per seed, then mean and standard error across seeds.
  const ctrs: number[] = [];
  let matchedTotal = 0;
  for (let s = 1; s <= seeds; s++) {
    const r = replay(spec, s);
    ctrs.push(r.matched > 0 ? r.clicks / r.matched : 0);
    matchedTotal += r.matched;
  }
  const mean = ctrs.reduce((a, x) => a + x, 0) / seeds;
  const sd = Math.sqrt(ctrs.reduce((a, x) => a + (x - mean) ** 2, 0) / (seeds - 1));
  if (spec.name === 'uniform') uniform = mean;
  console.log(
    `| ${spec.name} | ${(mean * 100).toFixed(3)} % | ${((sd / Math.sqrt(seeds)) * 100).toFixed(3)} | ${(mean / uniform).toFixed(2)}× | ${(matchedTotal / seeds).toFixed(0)} |`,
  );
}
