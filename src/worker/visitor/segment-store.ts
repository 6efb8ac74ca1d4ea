/** Segment rules from KV (`config/segments`), compiled once per config version. */
import * as z from 'zod/mini';
import { CONFIG_KEYS } from '../../core/store-keys.ts';
import { compileSegments, NO_SEGMENTS, type CompiledSegments, type SegmentConfig as Config } from '../../core/segments.ts';
import { readConfig } from '../shared/config-store.ts';
import type { StoreOptions } from '../shared/refresh-cache.ts';
import { Name, shortText } from '../shared/request-schema.ts';

export const SegmentCondition = z.union([
  z.object({
    pageType: shortText(32),
    days: z.number().check(z.int(), z.gte(1), z.lte(14)),
    min: z.optional(z.number()),
    max: z.optional(z.number()),
  }),
  z.object({ interest: shortText(32), min: z.optional(z.number()), max: z.optional(z.number()) }),
  z.object({
    metric: z.enum(['visits', 'views', 'purchases', 'daysSinceFirst', 'daysSinceLast']),
    min: z.optional(z.number()),
    max: z.optional(z.number()),
  }),
  z.object({
    context: z.enum([
      'country',
      'region',
      'city',
      'device',
      'os',
      'browser',
      'referrer',
      'pageType',
      'utmSource',
      'utmMedium',
      'utmCampaign',
      'hour',
      'weekday',
    ]),
    in: z.array(z.union([z.string(), z.number()])).check(z.minLength(1)),
  }),
  z.object({
    attr: shortText(64),
    in: z.optional(z.array(z.union([z.string(), z.number(), z.boolean()]))),
    min: z.optional(z.number()),
    max: z.optional(z.number()),
  }),
]);

export const SegmentConfig = z.object({
  version: shortText(64),
  segments: z
    .array(
      z.object({
        id: Name,
        description: z.optional(z.string()),
        all: z.optional(z.array(SegmentCondition)),
        any: z.optional(z.array(SegmentCondition)),
      }),
    )
    .check(z.maxLength(64)),
});

export function parseSegments(raw: unknown): CompiledSegments | null {
  const r = z.safeParse(SegmentConfig, raw);
  return r.success ? compileSegments(r.data as Config) : null;
}

export function segmentRules(kv: KVNamespace, opts: StoreOptions): Promise<CompiledSegments> {
  return readConfig(kv, CONFIG_KEYS.segments, parseSegments, NO_SEGMENTS, opts);
}
