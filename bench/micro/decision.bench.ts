/**
 * The core decision, context → features → scores → choice, timed with mitata beside two
 * reference points in the same run:
 *   - the same decision hashing features the obvious way: `murmurhash.v3("field=value")`
 *     (string building + a TextEncoder per feature), with the same scorer;
 *   - the same decision under the default greedy policy (the first row uses Thompson sampling);
 *   - GrowthBook's experiment assignment (`evalFeature` on a 4-way experiment rule), on a
 *     warm instance and with the per-request instance an edge app creates.
 * Each attune decision builds its context from strings of its own, parsed from a request body
 * as the Worker parses its request's (made before the timing, as the platform makes them, and
 * never reused: a string V8 has hashed once looks up in a table faster than a request's would);
 * a page URL the isolate has seen is then a table lookup (core/memo-table.ts), and one more row
 * pays for a URL never seen before, as every visit with a unique click id does.
 * Then the same cases in interleaved rounds (bench/micro/interleaved.ts), whose ratios hold up on
 * this VM's swings in speed, and attune's ratio to GrowthBook's evalFeature from them. Results are
 * checked before anything is timed. The last line is JSON (µs per decision, ratios).
 * Run: npm run bench:micro
 */
import { GrowthBook } from '@growthbook/growthbook';
import { bench, do_not_optimize, run } from 'mitata';
import murmurhash from 'murmurhash';
import { buildContext, type ContextInput } from '../../src/core/context.ts';
import { decideLinear } from '../../src/core/decide.ts';
import { createFeatureVector, extractFeatures, firstSegment, type FeatureVector } from '../../src/core/features.ts';
import { scoreVariants } from '../../src/core/linear-model.ts';
import { actionProbabilities, drawAction, visitorUniform } from '../../src/core/policy.ts';
import { INPUT, VARIANTS, benchModel } from './fixtures.ts';
import { type Case, interleaved, printInterleaved } from './interleaved.ts';

const { model } = benchModel();
const greedy = benchModel(16, 'bench-greedy', { type: 'greedy', epsilon: 0.1 }).model; // the default policy
const fv = createFeatureVector();

/** A request's strings (its visitor id included), fresh from parsing as each request's are. */
interface Request {
  readonly input: ContextInput;
  readonly visitor: string;
}
let i = 0;
const requestBody = (url = INPUT.url!) =>
  JSON.stringify({ url, referrer: INPUT.referrer, userAgent: INPUT.userAgent, visitor: `visitor-${i++ & 1023}` });
const fresh = (url?: string): Request => {
  const { visitor, ...strings } = JSON.parse(requestBody(url)) as Pick<ContextInput, 'url' | 'referrer' | 'userAgent'> & {
    visitor: string;
  };
  return { input: { ...INPUT, ...strings }, visitor };
};

function attuneDecide({ input, visitor }: Request, m = model) {
  const ctx = buildContext(input);
  extractFeatures(ctx, fv);
  return decideLinear(m, null, fv, visitorUniform(visitor, 'hero', m.version));
}

/** The same features, hashed by building "field=value" strings for the murmurhash package. */
function naiveFeatures(ctx: ReturnType<typeof buildContext>, out: FeatureVector): FeatureVector {
  const pairs: [string, string | number][] = [
    ['bias', ''],
    ['country', ctx.country],
    ['region', ctx.region],
    ['city', ctx.city],
    ['asn', ctx.asn],
    ['timezone', ctx.timezone],
    ['device', ctx.device],
    ['os', ctx.os],
    ['browser', ctx.browser],
    ['referrer', ctx.referrer],
    ['referrer_host', ctx.referrerHost],
    ['utm_source', ctx.utmSource],
    ['utm_medium', ctx.utmMedium],
    ['utm_campaign', ctx.utmCampaign],
    ['utm_term', ctx.utmTerm],
    ['utm_content', ctx.utmContent],
    ['path', firstSegment(ctx.path)],
    ['page_type', ctx.pageType],
    ['hour', ctx.hour],
    ['weekday', ctx.weekday],
    ['daypart', ctx.hour >> 2],
    ['visits', ctx.visits],
    ['recency', ctx.daysSinceLastVisit],
    ['purchases', ctx.purchases],
    ['returning', ctx.visits > 1 ? 1 : 0],
    ['device*page_type', `${ctx.device}*${ctx.pageType}`],
    ['referrer*page_type', `${ctx.referrer}*${ctx.pageType}`],
    ['country*device', `${ctx.country}*${ctx.device}`],
    ['daypart*weekday', `${ctx.hour >> 2}*${ctx.weekday}`],
  ];
  for (const s of ctx.segments) pairs.push(['segment', s]);
  for (const [k, v] of Object.entries(ctx.attrs)) pairs.push([`attr:${k}`, String(v)]);
  out.length = 0;
  for (const [k, v] of pairs) {
    out.hashes[out.length] = murmurhash.v3(`${k}=${v}`, 0);
    out.values[out.length++] = 1;
  }
  return out;
}

const scores = new Float64Array(8);
const probs = new Float64Array(8);
const active = Int32Array.of(0, 1, 2, 3);
function naiveDecide(visitor: string) {
  const ctx = buildContext(INPUT);
  naiveFeatures(ctx, fv);
  scoreVariants(model, fv, scores);
  actionProbabilities(model.policy, scores, active, 4, model.sigma, probs);
  return VARIANTS[drawAction(probs, active, 4, murmurhash.v3(`${visitor}|hero|${model.version}`, 0) / 4294967296)];
}

const features = {
  hero: {
    defaultValue: 'control',
    rules: [{ key: 'hero', variations: VARIANTS, weights: [0.25, 0.25, 0.25, 0.25], coverage: 1, hashAttribute: 'id' }],
  },
};
const attributes = { id: 'visitor-123', country: 'DE', device: 'mobile', plan: 'pro', url: INPUT.url };
const warm = new GrowthBook({ features, attributes });

// Correctness before timing.
const d = attuneDecide(fresh());
if (!d || !VARIANTS.includes(d.variant) || !(d.propensity > 0 && d.propensity <= 1)) throw new Error('attune decision is wrong');
const ctx = buildContext(INPUT);
const fvCheck = extractFeatures(ctx, createFeatureVector());
if (fvCheck.length < 30) throw new Error(`expected about 30 features, got ${fvCheck.length}`);
if (!VARIANTS.includes(naiveDecide('visitor-123')!)) throw new Error('naive decision is wrong');
const gbResult = warm.evalFeature('hero');
if (gbResult.source !== 'experiment' || !VARIANTS.includes(gbResult.value)) throw new Error(`growthbook: ${JSON.stringify(gbResult)}`);
console.log(`features per decision: ${fvCheck.length}; variants: ${VARIANTS.length}; policy: ${model.policy.type}`);

const seen = () => fresh();
const unseen = () => fresh(`${INPUT.url}&gclid=${i}`);
const cases: Case[] = [
  ['attune: context → features → scores → choice', (r: Request) => do_not_optimize(attuneDecide(r)), seen],
  ['attune: the same, greedy policy (the default)', (r: Request) => do_not_optimize(attuneDecide(r, greedy)), seen],
  ['attune: the same, a page URL never seen before (a unique click id)', (r: Request) => do_not_optimize(attuneDecide(r)), unseen],
  [
    'attune: features → scores → choice (context prebuilt)',
    () => {
      extractFeatures(ctx, fv);
      return do_not_optimize(decideLinear(model, null, fv, visitorUniform(`visitor-${i++ & 1023}`, 'hero', 'bench')));
    },
  ],
  ['same decision, murmurhash package + string keys', () => do_not_optimize(naiveDecide(`visitor-${i++ & 1023}`))],
  ['growthbook evalFeature (warm instance)', () => do_not_optimize(warm.evalFeature('hero'))],
  [
    'growthbook new instance + evalFeature (per request)',
    () => {
      const gb = new GrowthBook({ features, attributes: { ...attributes, id: `visitor-${i++ & 1023}` } });
      do_not_optimize(gb.evalFeature('hero'));
      gb.destroy();
    },
  ],
];
const call = ([, f, input]: Case) => (input === undefined ? (f as () => unknown)() : (f as (x: unknown) => unknown)(input()));
// Every case runs hot before any is timed: on this VM the first timed case otherwise pays for
// the JIT and the clock ramping up, and the ratios drift with the order of the rows.
for (let round = 0; round < 3; round++) for (const c of cases) for (let k = 0; k < 20_000; k++) call(c);
// mitata makes a case's input before each call, outside the timing ("computed parameters",
// whose makers take no arguments)
for (const [name, f, input] of cases) {
  if (input === undefined) bench(name, f as () => unknown);
  else
    bench(name, function* () {
      yield { 0: input, bench: f };
    });
}

const out = await run({ format: 'quiet' } as never);
const rows = (out as { benchmarks: { alias: string; runs: { stats?: { p50: number } }[] }[] }).benchmarks.map((b) => ({
  name: b.alias,
  median: b.runs[0]!.stats!.p50,
}));
const base = rows[0]!.median;
console.log('\nmedian per decision (ns), ratio to the attune decision');
for (const r of rows) console.log(`${r.median.toFixed(0).padStart(8)} ns  ${(r.median / base).toFixed(2).padStart(6)}x  ${r.name}`);
const inter = interleaved(cases);
printInterleaved(inter, 'interleaved rounds (each round times every case within milliseconds; ratios are per round):');
// issue 22's measure: the attune decision over GrowthBook's evalFeature, timed in the same rounds
const row = (prefix: string) => inter.find((r) => r.name.startsWith(prefix))!;
const [ours, gbWarm, gbNew] = [row('attune: context'), row('growthbook evalFeature'), row('growthbook new instance')];
console.log(
  `\nattune decision / GrowthBook evalFeature: ${(1 / gbWarm.ratio).toFixed(2)}× a warm instance, ${(1 / gbNew.ratio).toFixed(2)}× a new instance per request`,
);
console.log('reproduce: npm run bench:micro');
const us = (ns: number) => Math.round(ns) / 1000;
console.log(
  JSON.stringify({
    attune: us(ours.median),
    growthbookWarm: us(gbWarm.median),
    growthbookNew: us(gbNew.median),
    ratioWarm: Math.round(1000 / gbWarm.ratio) / 1000,
    ratioNew: Math.round(1000 / gbNew.ratio) / 1000,
  }),
);
