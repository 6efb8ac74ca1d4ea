import { describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../../src/core/decision-record.ts';
import { decideLinear } from '../../src/core/decide.ts';
import { createFeatureVector, extractFeatures } from '../../src/core/features.ts';
import { encodeLinearModel } from '../../src/core/linear-model.ts';
import type { LogRecord } from '../../src/core/outcome-event.ts';
import { attribute } from '../../src/train/attribution.ts';
import { loadLinear, modelPolicy, tablePolicy, type CandidatePolicy } from '../../src/train/candidate-policy.ts';
import { evaluateExamples } from '../../src/train/evaluate-log.ts';
import { syntheticLog, trueRate, VARIANTS, type SyntheticContext, type Variant } from '../../src/train/synthetic-log.ts';

const JOIN = { labels: new Set(['click']), windowMs: 30 * 60_000, graceMs: 10 * 60_000, skewMs: 60_000 };
async function* batches(records: Iterable<LogRecord>): AsyncGenerator<LogRecord[]> {
  let b: LogRecord[] = [];
  for (const r of records) {
    b.push(r);
    if (b.length === 1000) {
      yield b;
      b = [];
    }
  }
  if (b.length) yield b;
}
const log = (seed: number, n: number) => attribute(batches(syntheticLog({ decisions: n, seed })), JOIN);

const synthOf = (d: DecisionRecord): SyntheticContext => ({
  device: d.context.device,
  country: d.context.country,
  pageType: d.context.pageType,
  referrer: d.context.referrer,
  plan: String(d.context.attrs.plan),
});

/** ε-greedy on the true rates: a strong, context-dependent target policy. */
const EPS = 0.2;
function greedyProbs(c: SyntheticContext): number[] {
  const rates = VARIANTS.map((v) => trueRate(c, v));
  const best = rates.indexOf(Math.max(...rates));
  return VARIANTS.map((_, i) => EPS / VARIANTS.length + (i === best ? 1 - EPS : 0));
}
const targetPolicy: CandidatePolicy = (d, out) => {
  const p = greedyProbs(synthOf(d));
  d.candidates.forEach((c, i) => {
    out[i] = p[VARIANTS.indexOf(c as Variant)]!;
  });
  return true;
};

/** The exact value: contexts are uniform over the product of the generator's value lists. */
function trueValue(): number {
  const dims = {
    device: ['mobile', 'desktop', 'tablet'],
    country: ['US', 'DE', 'FR', 'GB', 'JP'],
    pageType: ['home', 'product', 'pricing', 'blog'],
    referrer: ['direct', 'search', 'social', 'email'],
    plan: ['free', 'pro', 'team'],
  };
  let sum = 0,
    n = 0;
  for (const device of dims.device)
    for (const country of dims.country)
      for (const pageType of dims.pageType)
        for (const referrer of dims.referrer)
          for (const plan of dims.plan) {
            const c = { device, country, pageType, referrer, plan };
            const p = greedyProbs(c);
            sum += VARIANTS.reduce((s, v, i) => s + p[i]! * trueRate(c, v), 0);
            n++;
          }
  return sum / n;
}

describe('off-policy evaluation on a synthetic log with a known target value', () => {
  it('IPS, SNIPS and DR cover the true value of a better policy, and the log shows the worse one', async () => {
    const truth = trueValue();
    const r = await evaluateExamples(log(3, 60_000), { policy: targetPolicy, target: 'label', replicates: 300 });
    for (const e of [r.ips, r.snips, r.dr]) {
      expect(e.low).toBeLessThanOrEqual(truth);
      expect(e.high).toBeGreaterThanOrEqual(truth);
      expect(Math.abs(e.value - truth) / truth).toBeLessThan(0.06);
      expect(e.high - e.low).toBeLessThan(0.25 * truth); // informative, not vacuous
    }
    // the uniform logging policy's value is clearly below, and outside the candidate's interval
    expect(r.logging.value).toBeLessThan(r.dr.low);
    expect(r.meanWeight).toBeCloseTo(1, 1);
  }, 60_000);

  it('scores the logging policy itself at its observed value (weights all 1)', async () => {
    const uniform = tablePolicy({ slots: { hero: Object.fromEntries(VARIANTS.map((v) => [v, 1])) } });
    const r = await evaluateExamples(log(4, 20_000), { policy: uniform, target: 'label', replicates: 100 });
    expect(r.ips.value).toBeCloseTo(r.logging.value, 10);
    expect(r.snips.value).toBeCloseTo(r.logging.value, 10);
    expect(r.ess).toBeCloseTo(r.n, 6);
    expect(r.warnings).toEqual([]);
  }, 30_000);

  it('skips decisions without candidates or with a propensity outside (0, 1], rather than failing or blowing up IPS', async () => {
    const uniform = tablePolicy({ slots: { hero: Object.fromEntries(VARIANTS.map((v) => [v, 1])) } });
    const records = [...syntheticLog({ decisions: 2_000, seed: 9 })];
    const first = records.find((r) => r.type === 'decision')! as DecisionRecord;
    const odd = [
      { ...first, id: 'no-cands', candidates: undefined },
      { ...first, id: 'zero', propensity: 0 },
      { ...first, id: 'above-one', propensity: 7 },
    ] as unknown as LogRecord[];
    const r = await evaluateExamples(attribute(batches([...records, ...odd]), JOIN), {
      policy: uniform,
      target: 'label',
      replicates: 100,
    });
    expect(r.skipped).toBe(3);
    expect(r.ips.value).toBeCloseTo(r.logging.value, 10);
  });

  it('skips a decision whose context the extractor cannot read, as training does, instead of crashing', async () => {
    const records = [...syntheticLog({ decisions: 2_000, seed: 9 })];
    const first = records.find((r) => r.type === 'decision')! as DecisionRecord;
    const blank = { ...first, id: 'no-context', context: null } as unknown as LogRecord;
    const model = encodeLinearModel({
      name: 'm',
      version: 'v',
      variants: [...VARIANTS],
      bits: 10,
      bias: new Float32Array(VARIANTS.length),
      weights: new Float32Array(VARIANTS.length << 10),
    });
    const loaded = loadLinear(model);
    const r = await evaluateExamples(attribute(batches([...records, blank]), JOIN), {
      policy: modelPolicy(loaded),
      target: 'label',
      replicates: 100,
    });
    expect(r.skipped).toBe(1);
  });

  it("gives a model's policy the same probabilities the Worker decides with", () => {
    const bits = 8;
    const weights = new Float32Array((1 << bits) * 3).map((_, i) => ((i * 7919) % 13) / 13 - 0.5);
    const model = loadLinear(
      encodeLinearModel({
        name: 'm',
        version: 'v',
        variants: ['control', 'bold', 'minimal'],
        bits,
        bias: [0, 0.1, -0.1],
        weights,
        policy: { type: 'softmax', temperature: 0.5, floor: 0.1 },
      }),
    );
    const pi = modelPolicy(model);
    const out = new Float64Array(3);
    const fv = createFeatureVector();
    for (const rec of syntheticLog({ decisions: 50, seed: 5 })) {
      if (rec.type !== 'decision') continue;
      expect(pi(rec, out)).toBe(true);
      const d = decideLinear(model, rec.candidates, extractFeatures(rec.context, fv), 0.5)!;
      for (let i = 0; i < 3; i++) expect(out[i]).toBeCloseTo(d.probabilities[d.candidates.indexOf(rec.candidates[i]!)]!, 12);
    }
  });
});

describe('honest off-policy intervals (issue 19)', () => {
  const records = (n: number, seed: number, clicks: boolean) =>
    [...syntheticLog({ decisions: n, seed, start: Date.UTC(2026, 10, 1) })].filter((r) => clicks || r.type === 'decision');

  it('never answers [0, 0] when the candidate matched no click: the upper end is an exact-style bound', async () => {
    const boldOnly = tablePolicy({ slots: { hero: { bold: 1 } } });
    // an outside reward model (q = 0) and the default cross-fitted cell means
    for (const reward of [() => {}, undefined]) {
      const r = await evaluateExamples(attribute(batches(records(90, 5, false)), JOIN), {
        policy: boldOnly,
        reward,
        target: 'label',
        replicates: 200,
      });
      for (const e of [r.ips, r.snips, r.dr, r.logging]) {
        expect(e.low).toBe(0);
        expect(e.high).toBeGreaterThan(0.03); // at least the rule of three: ln(40)/90 = 0.041
      }
      expect(r.matched).toBeGreaterThan(10);
      expect(r.matchedRewards).toBe(0);
      expect(r.ips.high).toBeCloseTo((r.maxWeight * Math.log(40)) / r.n, 2);
      expect(r.warnings.join('\n')).toMatch(/no reward among the \d+ decisions/);
      expect(r.warnings.join('\n')).toMatch(/effective sample size [\d.]+ is below 100/);
    }
  });

  it('says when the candidate acts where the log never did: the whole reward range', async () => {
    // all its mass on an action the log's candidates never include
    const r = await evaluateExamples(attribute(batches(records(200, 6, true)), JOIN), {
      policy: (_d, out) => {
        out.fill(0);
        return true;
      },
      target: 'label',
      replicates: 100,
    });
    expect(r.matched).toBe(0);
    expect([r.ips.low, r.ips.high]).toEqual([0, 1]);
    expect(r.warnings[0]).toMatch(/no logged decision took an action the candidate would take/);
  });

  it('keeps DR wide when the effective sample size is tiny (the reward model cannot make it certain)', async () => {
    // a candidate that almost always shows bold, logged by a policy that almost never did
    let bold = 0;
    const rare = [...syntheticLog({ decisions: 3_000, seed: 8 })]
      .filter((r) => r.type !== 'decision' || r.action !== 'bold' || bold++ % 150 === 0)
      .map((r) => (r.type === 'decision' ? { ...r, propensity: r.action === 'bold' ? 0.002 : 0.499 } : r));
    const r = await evaluateExamples(attribute(batches(rare), JOIN), {
      policy: tablePolicy({ slots: { hero: { bold: 0.98, control: 0.01, minimal: 0.01 } } }),
      target: 'label',
      replicates: 200,
    });
    expect(r.ess).toBeLessThan(0.01 * r.n);
    expect(r.dr.high - r.dr.low).toBeGreaterThanOrEqual(0.9 * (r.ips.high - r.ips.low));
    expect(r.dm.high - r.dm.low).toBeGreaterThan(0);
    expect(r.warnings.join('\n')).toMatch(/under 1 % of the \d+ rows/);
    expect(r.warnings.join('\n')).toMatch(/one decision carries [\d.]+ % of the total weight/);
  });

  it('reads only the window it is given, and counts the rest as outside', async () => {
    const start = Date.UTC(2026, 10, 1);
    const uniform = tablePolicy({ slots: { hero: { control: 1, bold: 1, minimal: 1 } } });
    const r = await evaluateExamples(attribute(batches(records(3_000, 9, true)), JOIN), {
      policy: uniform,
      target: 'label',
      from: start + 1_000 * 1_000,
      to: start + 2_000 * 1_000,
      replicates: 100,
    });
    expect(r.n).toBe(1_000);
    expect(r.outside).toBe(2_000);
  });

  it('cross-fits the cell means: a row never scores with a mean it was part of', async () => {
    const { addRow, createOpe, createRow } = await import('../../src/train/ope.ts');
    const { opeResult } = await import('../../src/train/ope-bounds.ts');
    // two folds (a row's fold is its key's lowest bit): fold 0 always rewarded, fold 1 never
    const ope = createOpe({ folds: 2, replicates: 100, rewardMax: 1 });
    const row = createRow(2);
    row.size = 2;
    row.cells.set([0, 1]);
    row.target.set([1, 0]);
    row.cell = 0;
    row.weight = 2;
    for (let i = 0; i < 40; i++) {
      row.key = i < 30 ? 2 * i : 2 * i + 1;
      row.reward = i < 30 ? 1 : 0;
      addRow(ope, row);
    }
    const r = opeResult(ope);
    // in-sample, every row would score q = 30/40 and DM = 0.75; cross-fitted, fold 0 takes
    // fold 1's mean (0) and fold 1 takes fold 0's (1): DM = (30·0 + 10·1) / 40
    expect(r.dm.value).toBeCloseTo(0.25, 10);
    expect(r.ips.value).toBeCloseTo(1.5, 10);
  });
});
