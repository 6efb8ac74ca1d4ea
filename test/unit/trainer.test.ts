import { describe, expect, it } from 'vitest';
import { createFeatureVector, extractFeatures } from '../../src/core/features.ts';
import { linearFromEnvelope, MAX_VARIANTS, scoreVariants, sigmoid, type LinearModel } from '../../src/core/linear-model.ts';
import { decodeEnvelope } from '../../src/core/model-format.ts';
import type { LogRecord } from '../../src/core/outcome-event.ts';
import { attribute, newJoinStats } from '../../src/train/attribution.ts';
import { fit } from '../../src/train/fit.ts';
import { DEFAULT_FTRL } from '../../src/train/ftrl.ts';
import { loggedContextOf, mulberry32, randomContext, syntheticLog, trueLogit, trueRate, VARIANTS } from '../../src/train/synthetic-log.ts';

const JOIN = { labels: new Set(['click']), windowMs: 30 * 60_000, graceMs: 10 * 60_000, skewMs: 60_000 };

async function* batches(records: Iterable<LogRecord>, size = 1000): AsyncGenerator<LogRecord[]> {
  let b: LogRecord[] = [];
  for (const r of records) {
    b.push(r);
    if (b.length === size) {
      yield b;
      b = [];
    }
  }
  if (b.length) yield b;
}

function decode(blob: Uint8Array): LinearModel {
  const env = decodeEnvelope(blob.slice().buffer);
  if (!env.ok) throw new Error(env.reason);
  const m = linearFromEnvelope(env.envelope);
  if (!m.ok) throw new Error(m.reason);
  return m.model;
}

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0,
    saa = 0,
    sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('trainer on a synthetic log with known weights', async () => {
  const start = Date.UTC(2026, 10, 1);
  const n = 150_000;
  const { blob, report } = await fit(attribute(batches(syntheticLog({ decisions: n, seed: 7, start })), JOIN, newJoinStats()), {
    name: 'synth',
    version: 'v1',
    ftrl: { ...DEFAULT_FTRL, bits: 16 },
    cutoff: start + 0.8 * n * 1000,
    target: 'click',
  });
  const model = decode(blob);

  it('learns every variant and holds out the last fifth by time', () => {
    expect(model.variants.slice().sort()).toEqual([...VARIANTS].sort());
    expect(report.train.examples).toBe(0.8 * n);
    expect(report.holdout.examples).toBe(0.2 * n);
  });

  it('recovers the true per-variant rates (the published, int8 blob)', () => {
    const r = mulberry32(99);
    const fv = createFeatureVector();
    const out = new Float64Array(model.variants.length);
    const fitted: number[] = [];
    const truth: number[] = [];
    let absErr = 0;
    for (let i = 0; i < 3000; i++) {
      const c = randomContext(r);
      extractFeatures(loggedContextOf(c, 12, 3), fv);
      scoreVariants(model, fv, out);
      for (const v of VARIANTS) {
        const x = out[model.variantIndex.get(v)!]!;
        fitted.push(x);
        truth.push(trueLogit(c, v));
        absErr += Math.abs(sigmoid(x) - trueRate(c, v));
      }
    }
    expect(pearson(fitted, truth)).toBeGreaterThan(0.97);
    expect(absErr / truth.length).toBeLessThan(0.01); // rates of 2–30 %: within one point
  });

  it('ranks and calibrates on the holdout, beating the constant-rate baseline', () => {
    const h = report.holdout;
    expect(h.logLoss).toBeLessThan(h.baselineLogLoss * 0.95);
    expect(h.auc).toBeGreaterThan(0.68);
    expect(h.calibrationError).toBeLessThan(0.01);
    for (const row of h.calibration) expect(Math.abs(row.predicted - row.observed)).toBeLessThan(0.035);
    // equal-count groups rise with the prediction: the model ranks
    expect(h.calibration[h.calibration.length - 1]!.observed).toBeGreaterThan(3 * h.calibration[0]!.observed);
  });
});

describe('trainer input hygiene', () => {
  it('learns only variant decisions and skips contexts the extractor cannot read', async () => {
    const records = [...syntheticLog({ decisions: 200, seed: 3 })];
    const first = records.find((r) => r.type === 'decision')!;
    const bid = { ...first, id: 'bid-1', kind: 'bid', action: 'bid-0.42' } as LogRecord;
    const broken = { ...first, id: 'broken-1', context: { attrs: {} } } as unknown as LogRecord;
    const { report } = await fit(attribute(batches([...records, bid, broken]), JOIN), {
      name: 'h',
      version: 'v',
      ftrl: { ...DEFAULT_FTRL, bits: 10 },
      cutoff: Infinity,
      target: 'click',
    });
    expect(report.model.variants).not.toContain('bid-0.42');
    expect(report.unreadableContexts).toBe(1);
    expect(report.train.examples).toBe(200);
  });

  it('skips decisions that showed nothing (a slot fallen back without candidates logs action "")', async () => {
    const records = [...syntheticLog({ decisions: 200, seed: 3 })];
    const first = records.find((r) => r.type === 'decision')!;
    const nothing = {
      ...first,
      id: 'none-1',
      action: '',
      source: 'fallback',
      fallback: 'unknownModel',
      propensity: 1,
      candidates: [],
      probabilities: [],
    } as LogRecord;
    const { report } = await fit(attribute(batches([...records, nothing]), JOIN), {
      name: 'h',
      version: 'v',
      ftrl: { ...DEFAULT_FTRL, bits: 10 },
      cutoff: Infinity,
      target: 'click',
    });
    expect(report.model.variants).not.toContain('');
    expect(report.train.examples).toBe(200);
  });

  it('learns at most MAX_VARIANTS actions, or only those named, however many the API was sent', async () => {
    const records = [...syntheticLog({ decisions: 300, seed: 5 })];
    const first = records.find((r) => r.type === 'decision')!;
    const spam = Array.from({ length: 200 }, (_, i) => ({ ...first, id: `spam-${i}`, action: `junk-${i}` }) as LogRecord);
    const opts = { name: 'h', version: 'v', ftrl: { ...DEFAULT_FTRL, bits: 8 }, cutoff: Infinity, target: 'click' };
    const capped = await fit(attribute(batches([...records, ...spam]), JOIN), opts);
    expect(capped.report.model.variants.length).toBe(MAX_VARIANTS);
    expect(capped.report.otherActions).toBe(VARIANTS.length + 200 - MAX_VARIANTS);
    expect(decodeEnvelope(capped.blob.slice().buffer).ok).toBe(true); // publishable: within the loader's limit
    const named = await fit(attribute(batches([...spam, ...records]), JOIN), { ...opts, variants: VARIANTS });
    expect(named.report.model.variants.sort()).toEqual([...VARIANTS].sort());
    expect(named.report.otherActions).toBe(200);
  });
});
