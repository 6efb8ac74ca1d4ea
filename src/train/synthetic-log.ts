/**
 * A synthetic log with known ground truth, for tests, benchmarks and demos: decisions drawn by
 * a logging policy over random visitor contexts, and clicks drawn from a logistic model whose
 * weights are set on readable feature keys (`device=mobile`, `attr:plan=pro`). A trainer
 * that works recovers those weights; an off-policy estimator that works recovers a target
 * policy's true value (`trueValue`).
 *
 * `npm run log:synth -- --out DIR --decisions 100000 [--seed 1] [--per-object 100] [--start ISO]`
 * writes it as the consumer does: gzip NDJSON objects of at most 100 records (one consumer
 * batch each) under `site=default/dt=…/hour=…/` partitions, named as the consumer names them.
 * The log ends before now (readers treat records from the future as corrupt).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { DecisionRecord, LoggedContext } from '../core/decision-record.ts';
import { FEATURE_SPEC_HASH } from '../core/features.ts';
import { LOG_PREFIX, logObjectKey } from '../core/log-layout.ts';
import type { LogRecord, OutcomeEvent } from '../core/outcome-event.ts';
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
  /** the first decision's time (ms); default: so that the log ends an hour before now */
  readonly start?: number;
  /** ms between decisions */
  readonly gapMs?: number;
}

const HOUR = 3_600_000;

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

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      decisions: { type: 'string', default: '100000' },
      seed: { type: 'string', default: '1' },
      'per-object': { type: 'string', default: '100' },
      start: { type: 'string' },
      legacy: { type: 'boolean', default: false },
    },
  });
  if (!values.out) throw new Error('--out DIR is required');
  const decisions = Number(values.decisions);
  if (!(Number.isInteger(decisions) && decisions > 0)) throw new Error('--decisions must be a positive integer');
  const perObject = Number(values['per-object']);
  if (!(Number.isInteger(perObject) && perObject > 0)) throw new Error('--per-object must be a positive integer');
  const start = values.start === undefined ? undefined : Date.parse(values.start);
  if (start !== undefined && Number.isNaN(start)) throw new Error('--start must be an ISO date');
  const n = await writeSyntheticLog(values.out, {
    decisions,
    seed: Number(values.seed),
    perObject,
    start,
    layout: values.legacy ? 'legacy' : 'site',
  });
  console.log(`wrote ${n} records to ${values.out}`);
}
