/**
 * The options every log-reading CLI shares (train, evaluate, fit-shading, recs:train --log):
 * where the log is, which site, how outcomes attribute to decisions, and DuckDB's memory.
 */
import type { JoinOptions } from './attribution.ts';
import { parseDuration } from './attribution.ts';
import { type LogHandle, openLog } from './log/open-log.ts';

export const LOG_OPTIONS = {
  log: { type: 'string', multiple: true },
  'r2-local': { type: 'boolean', default: false },
  persist: { type: 'string' },
  label: { type: 'string', default: 'click' },
  window: { type: 'string', default: '30m' },
  grace: { type: 'string', default: '10m' },
  skew: { type: 'string', default: '1m' },
  served: { type: 'string' },
  site: { type: 'string', default: 'default' },
  memory: { type: 'string', default: '256MB' },
  threads: { type: 'string', default: '2' },
  'slice-mb': { type: 'string' },
} as const;

export interface LogArgs {
  log?: string[] | undefined;
  'r2-local'?: boolean | undefined;
  persist?: string | undefined;
  label?: string | undefined;
  window?: string | undefined;
  grace?: string | undefined;
  skew?: string | undefined;
  /** outcome names that say a decision was shown (comma-separated; `none` for every decision) */
  served?: string | undefined;
  /** the decisions' kind: bids default `served` to win,billing */
  kind?: string | undefined;
  /** the `site=` partition to read; logs without one are site `default` */
  site?: string | undefined;
  /** DuckDB's memory limit, and its threads */
  memory?: string | undefined;
  threads?: string | undefined;
  /** input per time slice, in MB (log/slices.ts) */
  'slice-mb'?: string | undefined;
}

/** The log the arguments name, open for reading (close it when done). */
export function openLogOf(a: LogArgs): Promise<LogHandle> {
  const mb = a['slice-mb'] === undefined ? undefined : Number(a['slice-mb']);
  const threads = a.threads === undefined ? undefined : Number(a.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 64))
    throw new Error(`--threads must be an integer in 1..64, got "${a.threads}"`);
  if (mb !== undefined && !(mb > 0)) throw new Error(`--slice-mb must be a positive number, got "${a['slice-mb']}"`);
  return openLog({
    log: a.log,
    r2Local: a['r2-local'],
    persist: a.persist,
    site: a.site,
    memory: a.memory,
    threads,
    sliceBytes: mb === undefined ? undefined : mb * 2 ** 20,
  });
}

const names = (s: string) =>
  new Set(
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

export function joinOptions(a: LogArgs): JoinOptions {
  // A bid's ad is seen only when it won: by default its examples are the won bids (a win or
  // billing notice in the window), or every lost bid would teach pCTR that ads are not clicked.
  const served = a.served ?? (a.kind === 'bid' ? 'win,billing' : 'none');
  return {
    labels: names(a.label ?? 'click'),
    windowMs: parseDuration(a.window ?? '30m'),
    graceMs: parseDuration(a.grace ?? '10m'),
    skewMs: parseDuration(a.skew ?? '1m'),
    ...(served === 'none' ? {} : { served: names(served) }),
  };
}
