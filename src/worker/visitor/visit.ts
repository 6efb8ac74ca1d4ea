/**
 * The shared front half of every decision endpoint: who the visitor is, their profile, the
 * context, segments and features, built once per request and read by every slot and model.
 */
import { buildContext, type AttrValue, type VisitorContext } from '../../core/context.ts';
import { createFeatureVector, extractFeatures, type FeatureVector } from '../../core/features.ts';
import { touchProfile, type Profile } from '../../core/profile.ts';
import { evaluateSegments } from '../../core/segments.ts';
import type { StoreOptions } from '../shared/refresh-cache.ts';
import { contextInput, type PageFields } from './request-context.ts';
import { segmentRules } from './segment-store.ts';
import { storeOptions } from '../shared/settings.ts';
import type { AppContext } from '../shared/types.ts';
import { readVisitor, writeVisitor, type Visitor } from './visitor.ts';
import { kvOf } from '../shared/bindings.ts';

export interface Visit {
  readonly now: number;
  readonly visitor: Visitor;
  /** the profile including this request's page view (when it counts as one) */
  profile: Profile;
  readonly ctx: VisitorContext;
  readonly features: FeatureVector;
  readonly store: StoreOptions;
}

export interface VisitInput {
  readonly visitorId?: string | undefined;
  readonly page?: PageFields | undefined;
  readonly attributes?: Readonly<Record<string, AttrValue>> | undefined;
  /** the signed profile a client without cookies sends back (visitor.ts `readVisitor`) */
  readonly profile?: string | undefined;
}

/** The visitor asked not to be tracked: Global Privacy Control or Do Not Track. */
export function optedOut(req: Request): boolean {
  return req.headers.get('sec-gpc') === '1' || req.headers.get('dnt') === '1';
}

/** `pageView`: whether this request records a page view in the profile (decide: yes; score: no). */
export async function beginVisit(c: AppContext, input: VisitInput, pageView: boolean): Promise<Visit> {
  const now = Date.now();
  const store = storeOptions(c, now);
  const rules = segmentRules(kvOf(c.env), store); // a cold isolate's KV read, under way while the cookies are read
  const visitor = readVisitor(c, input.visitorId, now, input.profile);
  const segments = await rules;
  const ctx = buildContext(contextInput(c.req.raw, input.page, input.attributes, visitor.profile, now));
  const profile = pageView ? touchProfile(visitor.profile, now, ctx.pageType) : visitor.profile;
  // Segments see the profile with this view counted: "3rd pricing view" is true on the 3rd view.
  const withView = pageView ? { ...ctx, profile } : ctx;
  ctx.segments = evaluateSegments(segments, withView);
  return { now, visitor, profile, ctx, features: extractFeatures(ctx, createFeatureVector()), store };
}

/** Sets the cookies; returns the signed profile (null without a signing secret). */
export function finishVisit(c: AppContext, visit: Visit): string | null {
  c.header('cache-control', 'private, no-store');
  return writeVisitor(c, visit.visitor, visit.profile);
}
