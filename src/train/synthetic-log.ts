/**
 * A synthetic log with known ground truth, for tests, benchmarks and demos: decisions drawn by
 * a logging policy over random visitor contexts, and clicks drawn from a logistic model whose
 * weights are set on readable feature keys (`device=mobile`, `attr:plan=pro`). A trainer
 * that works recovers those weights; an off-policy estimator that works recovers a target
 * policy's true value (`trueValue`).
 *
 * `npm run log:synth -- --out DIR [--decisions 100000] [--seed 1] [--per-object 100] [--start ISO]`
 * writes it as the consumer does: gzip NDJSON objects of at most 100 records (one consumer
 * batch each) under `site=default/dt=…/hour=…/` partitions, named as the consumer names them.
 * The log ends before now (readers treat records from the future as corrupt).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DecisionRecord, LoggedContext } from '../core/decision-record.ts';
import { FEATURE_SPEC_HASH } from '../core/features.ts';
import { LOG_PREFIX, logObjectKey } from '../core/log-layout.ts';
import type { LogRecord } from '../core/outcome-event.ts';
import { cliMain, type CliSpec, dateOption } from './cli.ts';
import { lastFullDayStart } from './insights/days.ts';
import { mulberry32 } from './random.ts';
import { syntheticClick } from './synthetic-click.ts';
import { offerRecords } from './synthetic-experiment.ts';

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
  /** the first decision's time (ms); default: so that the log ends an hour before now */
  readonly start?: number;
  /** ms between decisions */
  readonly gapMs?: number;
  /** called every few thousand decisions with the number written so far */
  readonly onProgress?: (decisions: number) => void;
  /** inject the documented shifts of ANOMALY (for `npm run insights` known answers) */
  readonly anomaly?: boolean;
  /**
   * the hero decisions carry a model retrained daily (`hero-ctr`, its version named for each UTC
   * day's start, as `npm run train` names versions) that logs its calibrated predicted click rate
   * as `score`: what a healthy model logs (`anomaly` makes it stale and drifting instead)
   */
  readonly model?: boolean;
}

/**
 * The shifts `--anomaly` injects, each a known answer for `npm run insights` (docs/insights.md):
 *   - from the start of the log's last full UTC day (`lastFullDayStart`), variant `bold`'s click
 *     probability is halved;
 *   - throughout, `bold` gains `blogBold` on its logit on `blog` pages, so in the last day (where
 *     `control` is best overall) blog visitors still prefer `bold`: a segment whose best variant
 *     differs from the overall best;
 *   - the hero decisions carry a model, `hero-ctr`, whose one version is named for a training
 *     time `staleDays` before the log starts (a stale model: `model_version_age` past 7 days), and
 *     log its predicted click rate as `score`: the probability without the halving, until the last
 *     full day, from which the score is `scoreFactor` × that (inputs that drifted under an
 *     unchanged version: observed / predicted clicks falls, a calibration drift);
 *   - in the last full day, from `spikeHour` UTC for `spikeHours` hours, each hero decision comes
 *     with `spikeExtra` more (drawn from their own random stream, so the other records stay the
 *     same): a traffic spike against the control limits of the slot's exposures;
 *   - beside the hero slot, experiment `offer-test` on slot `offer`, where email visitors prefer the arm that
 *     is not best overall (synthetic-experiment.ts `OFFER`): a segment finding per experiment.
 */
export const ANOMALY = {
  boldFactor: 0.5,
  blogBold: 1.2,
  model: 'hero-ctr',
  staleDays: 10,
  scoreFactor: 1.6,
  spikeHour: 10,
  spikeHours: 2,
  spikeExtra: 2,
} as const;

/** A version name as `npm run train` writes by default: the UTC time, 20261123t101500. */
const versionAt = (t: number) => new Date(t).toISOString().replace(/[-:]/g, '').replace(/\..*/, '').toLowerCase();

/** The click probability with ANOMALY's shifts (`shifted`: in the last full day). */
export function anomalyRate(c: SyntheticContext, v: Variant, shifted: boolean): number {
  const logit = trueLogit(c, v) + (c.pageType === 'blog' && v === 'bold' ? ANOMALY.blogBold : 0);
  const p = 1 / (1 + Math.exp(-logit));
  return shifted && v === 'bold' ? p * ANOMALY.boldFactor : p;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The default start: the log's last decision falls in the hour before the current one. */
export function defaultStart(decisions: number, gapMs = 1000, now = Date.now()): number {
  return Math.floor(now / HOUR) * HOUR - HOUR - Math.ceil((decisions * gapMs) / HOUR) * HOUR;
}

/** Records in log order: each decision, then its click (if any) 5 s later. */
export function* syntheticLog(o: SynthOptions): Generator<LogRecord> {
  const r = mulberry32(o.seed ?? 1);
  const gap = o.gapMs ?? 1000;
  const start = o.start ?? defaultStart(o.decisions, gap);
  const candidates = [...VARIANTS];
  const probabilities = candidates.map(() => 1 / candidates.length);
  const shiftFrom = lastFullDayStart(start + (o.decisions - 1) * gap);
  const offer = mulberry32(((o.seed ?? 1) ^ 0x0ffe4) >>> 0);
  const stale = { name: ANOMALY.model, version: versionAt(start - ANOMALY.staleDays * DAY) };
  const modelAt = (ts: number) =>
    o.anomaly ? stale : o.model ? { name: ANOMALY.model, version: versionAt(Math.floor(ts / DAY) * DAY) } : null;
  const spikeFrom = shiftFrom + ANOMALY.spikeHour * HOUR;
  const spikeTo = spikeFrom + ANOMALY.spikeHours * HOUR;
  const spike = mulberry32(((o.seed ?? 1) ^ 0x5bd1e995) >>> 0);
  function* one(rr: () => number, id: string, ts: number, visitor: string): Generator<LogRecord, DecisionRecord> {
    const c = randomContext(rr);
    const v = pick(rr, VARIANTS);
    const d = new Date(ts);
    const shifted = ts >= shiftFrom;
    const decision: DecisionRecord = {
      type: 'decision',
      v: 1,
      id,
      ts,
      kind: 'variant',
      visitor,
      slot: 'hero',
      model: modelAt(ts),
      action: v,
      propensity: 1 / candidates.length,
      score: o.anomaly ? Math.min(1, anomalyRate(c, v, false) * (shifted ? ANOMALY.scoreFactor : 1)) : o.model ? trueRate(c, v) : null,
      source: 'explore',
      candidates,
      probabilities,
      featureSpec: FEATURE_SPEC_HASH,
      context: loggedContextOf(c, d.getUTCHours(), d.getUTCDay()),
    };
    yield decision;
    if (rr() < (o.anomaly ? anomalyRate(c, v, shifted) : trueRate(c, v))) yield syntheticClick(decision);
    return decision;
  }
  for (let i = 0; i < o.decisions; i++) {
    if (o.onProgress && i % 4096 === 0) o.onProgress(i);
    const ts = start + i * gap;
    const hero = yield* one(r, `d${o.seed ?? 1}-${i}`, ts, ((i * 2654435761) >>> 0).toString(16).padStart(8, '0'));
    if (o.anomaly) yield* offerRecords(offer, i, hero);
    // the traffic spike's extra decisions, between this one and the next
    if (o.anomaly && ts >= spikeFrom && ts < spikeTo)
      for (let j = 1; j <= ANOMALY.spikeExtra; j++) {
        const visitor = Math.floor(spike() * 2 ** 32)
          .toString(16)
          .padStart(8, '0');
        yield* one(spike, `d${o.seed ?? 1}-${i}-s${j}`, ts + Math.floor((j * gap) / (ANOMALY.spikeExtra + 1)), visitor);
      }
  }
}

export interface WriteOptions extends SynthOptions {
  /** records per object, at most (the consumer writes one object per batch of ≤ 100); an object never spans an hour */
  readonly perObject?: number;
  /** `site` (site=default/dt=…/hour=…/, today's layout) or `legacy` (dt=…/hour=…/, before the site partition) */
  readonly layout?: 'site' | 'legacy';
}

/** Writes a synthetic log as the consumer writes one: gzip NDJSON objects under hour partitions. */
export async function writeSyntheticLog(dir: string, o: WriteOptions): Promise<number> {
  const perObject = o.perObject ?? 100;
  if (!(perObject >= 1)) throw new Error('perObject must be at least 1');
  let records = 0;
  let batch: LogRecord[] = [];
  let batchHour = NaN;
  const flush = () => {
    if (batch.length === 0) return;
    // the partition of the batch's first record (its "enqueue" hour), as the consumer keys it
    let key = logObjectKey(
      batch[0]!.ts,
      batch.map((r) => `${r.type}:${r.id}`),
    ).slice(LOG_PREFIX.length);
    if (o.layout === 'legacy') key = key.replace(/^site=[^/]+\//, '');
    const path = join(dir, key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, gzipSync(batch.map((r) => JSON.stringify(r)).join('\n') + '\n'));
    batch = [];
  };
  for (const rec of syntheticLog(o)) {
    // a click 5 s after its decision stays in its decision's hour, as one consumer batch would keep them
    const hour = Math.floor((rec.type === 'decision' ? rec.ts : rec.ts - 5000) / HOUR);
    if (batch.length >= perObject || hour !== batchHour) flush();
    batchHour = hour;
    batch.push(rec);
    records++;
  }
  flush();
  return records;
}

export const SPEC = {
  name: 'log:synth',
  usage:
    'npm run log:synth -- --out DIR [--decisions N] [--seed N] [--per-object N] [--start ISO] [--gap-ms N] [--legacy] [--anomaly] [--model]',
  summary:
    'Writes a synthetic outcome log with known ground truth (uniform logging over three hero variants, clicks from a logistic model on readable features) as the queue consumer writes it: gzip NDJSON objects under site=default/dt=/hour= folders.',
  options: {
    out: { type: 'string', arg: 'DIR', required: true, help: 'where the log is written' },
    decisions: { type: 'integer', min: 1, default: 100_000, help: 'how many decisions (one a second, ending in the hour before now)' },
    seed: { type: 'integer', min: 0, default: 1, help: 'the random seed: the same seed writes the same log' },
    'per-object': { type: 'integer', min: 1, default: 100, help: 'records per object, at most (one consumer batch)' },
    start: { type: 'string', arg: 'ISO|MS', help: "the first decision's time (default: so the log ends before now)" },
    legacy: { type: 'boolean', help: 'the layout before the site partition (dt=…/hour=…/)' },
    anomaly: {
      type: 'boolean',
      help: "inject known shifts: bold's click rate halves on the last full day; blog visitors prefer bold; email visitors prefer offer-test's discount arm; a stale model whose calibration drifts; a traffic spike (docs/insights.md)",
    },
    'gap-ms': { type: 'integer', min: 1, default: 1000, help: 'ms between decisions' },
    model: { type: 'boolean', help: 'the hero decisions carry a model retrained daily and log its calibrated predicted click rate' },
  },
} as const satisfies CliSpec;

await cliMain(import.meta.url, SPEC, async ({ values }) => {
  const start = dateOption(values.start, 'start');
  const n = await writeSyntheticLog(values.out, {
    decisions: values.decisions,
    seed: values.seed,
    perObject: values['per-object'],
    start,
    layout: values.legacy ? 'legacy' : 'site',
    anomaly: values.anomaly,
    gapMs: values['gap-ms'],
    model: values.model,
  });
  console.log(`wrote ${n} records to ${values.out}`);
});
