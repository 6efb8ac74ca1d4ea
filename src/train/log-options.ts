/**
 * The options every log-reading CLI shares (train, evaluate): where the log is, how outcomes
 * attribute to decisions, and the time range it covers.
 */
import type { JoinOptions } from './attribution.ts';
import { parseDuration } from './attribution.ts';
import { localR2Sources, pathSources, readRecords, type LogSource } from './log-reader.ts';

export const LOG_OPTIONS = {
  log: { type: 'string', multiple: true },
  'r2-local': { type: 'boolean', default: false },
  persist: { type: 'string' },
  label: { type: 'string', default: 'click' },
  window: { type: 'string', default: '30m' },
  grace: { type: 'string', default: '10m' },
  skew: { type: 'string', default: '1m' },
} as const;

export interface LogArgs {
  log?: string[] | undefined;
  'r2-local'?: boolean | undefined;
  persist?: string | undefined;
  label?: string | undefined;
  window?: string | undefined;
  grace?: string | undefined;
  skew?: string | undefined;
}

export async function openSources(a: LogArgs): Promise<{ sources: LogSource[]; close: () => Promise<void> }> {
  if (a['r2-local']) return localR2Sources(a.persist);
  if (!a.log?.length) throw new Error('name the log: --log <folder|file> (repeatable) or --r2-local');
  const sources: LogSource[] = [];
  for (const p of a.log) sources.push(...(await pathSources(p)));
  if (sources.length === 0) throw new Error(`no .ndjson / .ndjson.gz files under ${a.log.join(', ')}`);
  return { sources, close: async () => {} };
}

export function joinOptions(a: LogArgs): JoinOptions {
  return {
    labels: new Set((a.label ?? 'click').split(',').map((s) => s.trim()).filter(Boolean)),
    windowMs: parseDuration(a.window ?? '30m'),
    graceMs: parseDuration(a.grace ?? '10m'),
    skewMs: parseDuration(a.skew ?? '1m'),
  };
}

/** First and last decision time in the log: a light pass that parses only the `ts` field. */
export async function decisionTimeRange(sources: readonly LogSource[]): Promise<{ min: number; max: number; decisions: number }> {
  let min = Infinity;
  let max = -Infinity;
  let decisions = 0;
  const TS = /"ts":(\d+(?:\.\d+)?)/;
  for (const src of sources) {
    for await (const lines of src.lines()) {
      for (const line of lines) {
        if (!line.includes('"type":"decision"')) continue;
        const m = TS.exec(line);
        const ts = m ? Number(m[1]) : (JSON.parse(line) as { ts: number }).ts;
        decisions++;
        if (ts < min) min = ts;
        if (ts > max) max = ts;
      }
    }
  }
  return { min, max, decisions };
}

export { readRecords };
