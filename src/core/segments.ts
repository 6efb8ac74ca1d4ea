/**
 * Real-time behavioural segments: rules over the visitor profile and the request context,
 * e.g. "viewed pricing 3+ times in 5 days". Rules arrive as JSON (validated at the boundary),
 * are compiled once per config version into predicates, and evaluated per request.
 */

import type { VisitorContext } from './context.ts';
import { decayedViews, PROFILE_DAYS, viewsWithin } from './profile.ts';

export type ProfileMetric = 'visits' | 'views' | 'purchases' | 'daysSinceFirst' | 'daysSinceLast';
export type ContextField =
  | 'country'
  | 'region'
  | 'city'
  | 'device'
  | 'os'
  | 'browser'
  | 'referrer'
  | 'pageType'
  | 'utmSource'
  | 'utmMedium'
  | 'utmCampaign'
  | 'hour'
  | 'weekday';

export type Condition =
  /** views of a page type within the last `days` days (at most PROFILE_DAYS) */
  | { readonly pageType: string; readonly days: number; readonly min?: number; readonly max?: number }
  /** time-decayed interest in a page type */
  | { readonly interest: string; readonly min?: number; readonly max?: number }
  | { readonly metric: ProfileMetric; readonly min?: number; readonly max?: number }
  | { readonly context: ContextField; readonly in: readonly (string | number)[] }
  | { readonly attr: string; readonly in?: readonly (string | number | boolean)[]; readonly min?: number; readonly max?: number };

export interface SegmentRule {
  readonly id: string;
  readonly description?: string;
  /** every condition must hold */
  readonly all?: readonly Condition[];
  /** at least one must hold (when present) */
  readonly any?: readonly Condition[];
}

export interface SegmentConfig {
  readonly version: string;
  readonly segments: readonly SegmentRule[];
}

type Predicate = (ctx: VisitorContext) => boolean;
export interface CompiledSegments {
  readonly version: string;
  readonly ids: readonly string[];
  readonly tests: readonly Predicate[];
}

const DAY_MS = 86_400_000;

function inRange(x: number, min: number | undefined, max: number | undefined): boolean {
  return (min === undefined || x >= min) && (max === undefined || x <= max);
}

function metricOf(ctx: VisitorContext, m: ProfileMetric): number {
  const p = ctx.profile;
  switch (m) {
    case 'visits':
      return p.visits;
    case 'views':
      return p.views;
    case 'purchases':
      return p.purchases;
    case 'daysSinceFirst':
      return Math.floor((ctx.now - p.first * 60_000) / DAY_MS);
    case 'daysSinceLast':
      return ctx.daysSinceLastVisit;
  }
}

function compileCondition(c: Condition): Predicate {
  if ('pageType' in c) {
    const days = Math.min(c.days, PROFILE_DAYS);
    return (ctx) => inRange(viewsWithin(ctx.profile, c.pageType, days, ctx.now), c.min, c.max);
  }
  if ('interest' in c) return (ctx) => inRange(decayedViews(ctx.profile, c.interest, ctx.now), c.min, c.max);
  if ('metric' in c) return (ctx) => inRange(metricOf(ctx, c.metric), c.min, c.max);
  if ('context' in c) {
    const allowed = new Set(c.in.map(String));
    const field = c.context;
    return (ctx) => allowed.has(String(ctx[field]));
  }
  const allowed = c.in ? new Set(c.in.map(String)) : null;
  return (ctx) => {
    const v = Object.hasOwn(ctx.attrs, c.attr) ? ctx.attrs[c.attr] : undefined; // not "constructor" from the prototype
    if (v === undefined) return false;
    if (allowed && !allowed.has(String(v))) return false;
    if (c.min !== undefined || c.max !== undefined) return typeof v === 'number' && inRange(v, c.min, c.max);
    return true;
  };
}

export function compileSegments(config: SegmentConfig): CompiledSegments {
  const tests = config.segments.map((rule): Predicate => {
    const all = (rule.all ?? []).map(compileCondition);
    const any = (rule.any ?? []).map(compileCondition);
    return (ctx) => all.every((t) => t(ctx)) && (any.length === 0 || any.some((t) => t(ctx)));
  });
  return { version: config.version, ids: config.segments.map((s) => s.id), tests };
}

export const NO_SEGMENTS: CompiledSegments = { version: 'none', ids: [], tests: [] };

/** Ids of the segments the visitor is in, in config order. */
export function evaluateSegments(compiled: CompiledSegments, ctx: VisitorContext): string[] {
  const out: string[] = [];
  for (let i = 0; i < compiled.tests.length; i++) if (compiled.tests[i]!(ctx)) out.push(compiled.ids[i]!);
  return out;
}
