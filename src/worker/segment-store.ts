/** Segment rules from KV (`config/segments`), compiled once per config version. */
import * as z from 'zod/mini';
import { compileSegments, NO_SEGMENTS, type CompiledSegments, type SegmentConfig as Config } from '../core/segments.ts';
import { readConfig } from './config-store.ts';
import type { StoreOptions } from './model-store.ts';
import { SegmentConfig } from './schemas.ts';

export const SEGMENTS_KEY = 'config/segments';

export function parseSegments(raw: unknown): CompiledSegments | null {
  const r = z.safeParse(SegmentConfig, raw);
  return r.success ? compileSegments(r.data as Config) : null;
}

export function segmentRules(kv: KVNamespace, opts: StoreOptions): Promise<CompiledSegments> {
  return readConfig(kv, SEGMENTS_KEY, parseSegments, NO_SEGMENTS, opts);
}
