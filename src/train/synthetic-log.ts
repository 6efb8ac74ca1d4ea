/**
 * A synthetic log with known ground truth, for tests, benchmarks and demos: decisions drawn by
 * a logging policy over random visitor contexts, and clicks drawn from a logistic model whose
 * weights are set on readable feature keys (`device=mobile`, `attr:plan=pro`). A trainer
 * that works recovers those weights; an off-policy estimator that works recovers a target
 * policy's true value (`trueValue`).
 *
 * `npm run log:synth -- --out DIR [--decisions 100000] [--seed 1]` writes it as the consumer
 * would: gzip NDJSON under dt=/hour= partitions (core/log-layout.ts).
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import type { DecisionRecord, LoggedContext } from '../core/decision-record.ts';
import { FEATURE_SPEC_HASH } from '../core/features.ts';
import { hourPartition } from '../core/log-layout.ts';
import type { LogRecord, OutcomeEvent } from '../core/outcome-event.ts';
import { cliMain, type CliSpec } from './cli.ts';
import { progressBar, records } from './progress.ts';
import { mulberry32 } from './random.ts';

export { mulberry32 };

const DEVICES = ['mobile', 'desktop', 'tablet'] as const;
const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'JP'] as const;
const PAGES = ['home', 'product', 'pricing', 'blog'] as const;
const REFERRERS = ['direct', 'search', 'social', 'email'] as const;
const PLANS = ['free', 'pro', 'team'] as const;

export const VARIANTS = ['control', 'bold', 'minimal'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface SyntheticContext {
  device: string;
  country: string;
  pageType: string;
  referrer: string;
  plan: string;
}

/** The ground truth: base rates per variant plus effects of readable context values. */
export const TRUTH = {
  bias: { control: -3.2, bold: -3.4, minimal: -3.0 } as Record<Variant, number>,
  effects: [
    { when: (c: SyntheticContext) => c.device === 'mobile', variant: 'bold', w: 1.4 },
    { when: (c: SyntheticContext) => c.pageType === 'pricing', variant: null, w: 0.9 },
    { when: (c: SyntheticContext) => c.plan === 'pro', variant: 'minimal', w: -1.2 },
    { when: (c: SyntheticContext) => c.referrer === 'email', variant: null, w: 0.6 },
    { when: (c: SyntheticContext) => c.country === 'JP', variant: 'control', w: 0.8 },
  ],
};

export function trueLogit(c: SyntheticContext, v: Variant): number {
  let s = TRUTH.bias[v];
  for (const e of TRUTH.effects) if ((e.variant === null || e.variant === v) && e.when(c)) s += e.w;
  return s;
}

export const trueRate = (c: SyntheticContext, v: Variant): number => 1 / (1 + Math.exp(-trueLogit(c, v)));

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

export function randomContext(r: () => number): SyntheticContext {
  return {
    device: pick(r, DEVICES),
    country: pick(r, COUNTRIES),
    pageType: pick(r, PAGES),
    referrer: pick(r, REFERRERS),
    plan: pick(r, PLANS),
  };
}

export function loggedContextOf(c: SyntheticContext, hour: number, weekday: number): LoggedContext {
  return {
    country: c.country,
    region: '',
    city: '',
    asn: 0,
    timezone: 'UTC',
    device: c.device,
    os: 'other',
    browser: 'other',
    referrer: c.referrer,
    referrerHost: '',
    utmSource: '',
    utmMedium: '',
    utmCampaign: '',
    utmTerm: '',
    utmContent: '',
    path: `/${c.pageType}`,
    pageType: c.pageType,
    hour,
    weekday,
    visits: 1,
    daysSinceLastVisit: -1,
    purchases: 0,
    segments: [],
    attrs: { plan: c.plan },
  };
}

/** The logging policy: uniform over the variants (propensity 1/3), the ideal exploration log. */
export interface SynthOptions {
  readonly decisions: number;
  readonly seed?: number;
  readonly start?: number;
  /** ms between decisions */
  readonly gapMs?: number;
  /** called every few thousand decisions with the number written so far */
  readonly onProgress?: (decisions: number) => void;
}

/** Records in log order: each decision, then its click (if any) 5 s later. */
export function* syntheticLog(o: SynthOptions): Generator<LogRecord> {
  const r = mulberry32(o.seed ?? 1);
  const start = o.start ?? Date.UTC(2026, 10, 1);
  const gap = o.gapMs ?? 1000;
  const candidates = [...VARIANTS];
  const probabilities = candidates.map(() => 1 / candidates.length);
  for (let i = 0; i < o.decisions; i++) {
    const ts = start + i * gap;
    const c = randomContext(r);
    const v = pick(r, VARIANTS);
    const d = new Date(ts);
    const id = `d${o.seed ?? 1}-${i}`;
    const decision: DecisionRecord = {
      type: 'decision',
      v: 1,
      id,
      ts,
      kind: 'variant',
      visitor: ((i * 2654435761) >>> 0).toString(16).padStart(8, '0'),
      slot: 'hero',
      model: null,
      action: v,
      propensity: 1 / candidates.length,
      score: null,
      source: 'explore',
      candidates,
      probabilities,
      featureSpec: FEATURE_SPEC_HASH,
      context: loggedContextOf(c, d.getUTCHours(), d.getUTCDay()),
    };
    yield decision;
    if (r() < trueRate(c, v)) {
      const click: OutcomeEvent = {
        type: 'outcome',
        v: 1,
        id: `c-${id}`,
        ts: ts + 5000,
        receivedAt: ts + 5200,
        name: 'click',
        decisionId: id,
        visitor: decision.visitor,
        slot: 'hero',
        variant: v,
      };
      yield click;
    }
  }
}

/** Writes a synthetic log as hourly gzip NDJSON objects, the consumer's layout. */
export async function writeSyntheticLog(dir: string, o: SynthOptions): Promise<number> {
  let written = 0;
  let decisions = 0;
  let hourKey = '';
  let out: ReturnType<typeof createGzip> | null = null;
  let file: ReturnType<typeof createWriteStream> | null = null;
  const finish = (gz: typeof out, f: typeof file) =>
    gz === null || f === null
      ? Promise.resolve()
      : new Promise<void>((res, rej) => {
          f.on('close', res).on('error', rej);
          gz.end();
        });
  const closes: Promise<void>[] = [];
  for (const rec of syntheticLog(o)) {
    // partition by the decision's hour (a click 5 s later stays in its decision's object, as
    // one consumer batch would keep them), so no partition is opened twice
    const key = hourPartition(rec.type === 'decision' ? rec.ts : rec.ts - 5000);
    if (key !== hourKey) {
      closes.push(finish(out, file));
      hourKey = key;
      await mkdir(join(dir, key), { recursive: true });
      out = createGzip();
      file = createWriteStream(join(dir, key, `synthetic-${o.seed ?? 1}.ndjson.gz`));
      out.pipe(file);
    }
    if (!out!.write(JSON.stringify(rec) + '\n')) await new Promise((res) => out!.once('drain', res));
    written++;
    if (rec.type === 'decision' && o.onProgress && (++decisions & 0xfff) === 0) o.onProgress(decisions);
  }
  closes.push(finish(out, file));
  await Promise.all(closes);
  return written;
}

export const SPEC = {
  name: 'log:synth',
  usage: 'npm run log:synth -- --out DIR [--decisions N] [--seed N]',
  summary:
    'Writes a synthetic outcome log with known ground truth (uniform logging over three hero variants, clicks from a logistic model on readable features) as the queue consumer writes it: gzip NDJSON under dt=/hour= folders.',
  options: {
    out: { type: 'string', arg: 'DIR', required: true, help: 'where the log is written' },
    decisions: { type: 'integer', min: 1, default: 100_000, help: 'how many decisions (one a second from 2026-11-01)' },
    seed: { type: 'integer', min: 0, default: 1, help: 'the random seed: the same seed writes the same log' },
  },
} as const satisfies CliSpec;

await cliMain(import.meta.url, SPEC, async ({ values }) => {
  const bar = progressBar('log:synth');
  const started = performance.now();
  const n = await writeSyntheticLog(values.out, {
    decisions: values.decisions,
    seed: values.seed,
    onProgress: (done) => bar.update(done / values.decisions, records(done, started)),
  });
  bar.done();
  console.log(`wrote ${n} records to ${values.out}`);
});
