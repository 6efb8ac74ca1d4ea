// The Open Bandit Dataset sample (../shared/data/obd, see its SOURCE.md) through the importer,
// the trainer and the evaluator, exactly as production logs go through them.
import { mkdtemp, readFile } from 'node:fs/promises';
import { HAS_SHARED_DATA, SHARED_DATA } from '../fixtures/shared-data.ts';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { extractFeatures } from '../../src/core/features.ts';
import type { LogRecord } from '../../src/core/outcome-event.ts';
import { loadLinear, modelPolicy, tablePolicy } from '../../src/train/candidate-policy.ts';
import { evaluateExamples } from '../../src/train/evaluate-log.ts';
import { evaluationWindow } from '../../src/train/evaluate-report.ts';
import { DEFAULT_FTRL } from '../../src/train/ftrl.ts';
import { importObd } from '../../src/train/import-obd.ts';
import { logExamples } from '../../src/train/log/examples.ts';
import { type LogHandle, openLog } from '../../src/train/log/open-log.ts';
import { trainFromLog } from '../../src/train/log/train-log.ts';

const OBD = resolve(SHARED_DATA, 'obd');
const JOIN = { labels: new Set(['click']), windowMs: 60_000, graceMs: 60_000, skewMs: 0 };

type Imported = Awaited<ReturnType<typeof importObd>>;

async function withLog<T>(dir: string, f: (log: LogHandle) => Promise<T>): Promise<T> {
  const log = await openLog({ log: [dir] });
  try {
    return await f(log);
  } finally {
    await log.close();
  }
}

describe.skipIf(!HAS_SHARED_DATA)('Open Bandit Dataset (men, random and Bernoulli TS logs)', () => {
  // In beforeAll, not the describe body: a skipped suite is still collected, and must not read the data.
  let dir = '';
  let random: Imported;
  let bts: Imported;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'attune-obd-'));
    random = await importObd(join(OBD, 'random/men'), join(dir, 'random-men'));
    bts = await importObd(join(OBD, 'bts/men'), join(dir, 'bts-men'));
  }, 120_000);

  it('imports every row as a decision and every click as an outcome joined to it', async () => {
    expect(random).toMatchObject({ decisions: 10_000, clicks: 46, outOfOrder: 0 });
    expect(bts).toMatchObject({ decisions: 10_000, clicks: 69 });
    const first = gunzipSync(await readFile(random.files[0]!))
      .toString('utf8')
      .split('\n')[0]!;
    const rec = JSON.parse(first) as LogRecord;
    expect(rec).toMatchObject({ type: 'decision', id: 'obd-random-men-0', slot: 'pos-3', action: 'item-14', propensity: 1 / 34 });
    if (rec.type !== 'decision') throw new Error('expected a decision');
    expect(rec.candidates).toHaveLength(34);
    expect(rec.context.attrs).toMatchObject({ position: '3', uf0: 'cef3390ed299c09874189c387777674a' });
    expect(extractFeatures(rec.context).length).toBeGreaterThan(30); // the Worker's extractor reads it as is
    // the policy table of the BTS log: item shares per position, each summing to one
    for (const shares of Object.values(bts.policy)) expect(Object.values(shares).reduce((s, x) => s + x, 0)).toBeCloseTo(1, 10);
  });

  it('trains a CTR model on the random log and reports it against the constant-CTR baseline', async () => {
    const cutoff = Date.parse('2019-11-29T14:00:00Z');
    const opts = { name: 'obd-men-ctr', version: 't', ftrl: { ...DEFAULT_FTRL, bits: 12 }, cutoff, target: 'click' };
    const { report } = await withLog(join(dir, 'random-men'), (log) => trainFromLog(log, opts, JOIN));
    expect(report.train.examples + report.holdout.examples).toBe(10_000);
    expect(report.train.positives + report.holdout.positives).toBe(46);
    expect(report.model.variants).toHaveLength(34);
    expect(Number.isFinite(report.holdout.logLoss) && Number.isFinite(report.holdout.auc)).toBe(true);
  }, 30_000);

  it('estimates the BTS policy CTR from the random log; the BTS log observed 0.69 %', async () => {
    const policy = tablePolicy({ slots: bts.policy });
    const r = await withLog(join(dir, 'random-men'), (log) =>
      evaluateExamples(logExamples(log, JOIN), { policy, target: 'label', replicates: 1000 }),
    );
    expect(r.logging.value).toBeCloseTo(0.0046, 6);
    const observedBts = bts.clicks / bts.decisions;
    for (const e of [r.ips, r.snips, r.dr]) {
      expect(e.value).toBeGreaterThan(r.logging.value); // BTS looks better than random, as it was
      expect(e.low).toBeLessThan(observedBts);
      expect(e.high).toBeGreaterThan(observedBts);
    }
  }, 30_000);

  it("evaluates the trained model's greedy policy after its training window: no false certainty, and in-sample is flagged", async () => {
    const { blob } = await withLog(join(dir, 'random-men'), (log) =>
      trainFromLog(
        log,
        {
          name: 'obd-men-ctr',
          version: 't',
          ftrl: { ...DEFAULT_FTRL, bits: 12 },
          cutoff: Date.parse('2019-11-29T14:00:00Z'),
          target: 'click',
          policy: { type: 'greedy', epsilon: 0.1 },
        },
        JOIN,
      ),
    );
    const model = loadLinear(blob);
    const window = evaluationWindow({ trained: model.trainingWindow });
    expect(window).toMatchObject({ source: 'model', outOfSample: true, from: model.trainingWindow!.to });
    const out = await withLog(join(dir, 'random-men'), (log) =>
      evaluateExamples(logExamples(log, JOIN), {
        policy: modelPolicy(model),
        target: 'label',
        from: window.from,
        replicates: 500,
      }),
    );
    expect(out.n + out.outside).toBe(10_000);
    expect(out.n).toBeLessThan(2_000);
    // few effective rows: the interval stays wide enough to hold the random policy's own rate
    expect(out.ess).toBeLessThan(100);
    expect(out.warnings.join('\n')).toMatch(/effective sample size [\d.]+ is below 100/);
    for (const e of [out.ips, out.snips, out.dr]) {
      expect(e.low).toBeLessThanOrEqual(out.logging.value);
      expect(e.high).toBeGreaterThanOrEqual(out.logging.value);
    }
    const all = evaluationWindow({ trained: model.trainingWindow, all: true });
    expect(all.outOfSample).toBe(false);
    expect(all.warnings.join('\n')).toMatch(/in-sample/);
  }, 60_000);
});
