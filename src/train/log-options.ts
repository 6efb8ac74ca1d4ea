/**
 * The options every log-reading CLI shares (train, evaluate, fit-shading, recs:train --log):
 * where the log is, which site, how outcomes attribute to decisions, and DuckDB's memory.
 */
import type { JoinOptions } from './attribution.ts';
import { parseDuration } from './attribution.ts';
import { type CliOption, UsageError } from './cli.ts';
import { type LogHandle, openLog } from './log/open-log.ts';

/**
 * The options every log-reading tool takes: `options: { ...LOG_OPTIONS, … }` (cli.ts) for the
 * ones that attribute outcomes (train, evaluate), LOG_SOURCE_OPTIONS for those that do not
 * (fit-shading, recs:train --log).
 */
export const LOG_SOURCE_OPTIONS = {
  log: {
    type: 'string',
    arg: 'DIR|FILE',
    multiple: true,
    help: 'the outcome log: a folder (NDJSON and/or Parquet from log:compact; an hour compacted is read from its Parquet), or one file',
  },
  'r2-local': { type: 'boolean', default: false, help: "read the local R2 log that npm start's Worker wrote, instead of --log" },
  persist: { type: 'string', arg: 'DIR', help: 'with --r2-local: the state folder, as wrangler dev --persist-to' },
  site: { type: 'string', arg: 'NAME', default: 'default', help: 'the site= partition to read (a log without one is site default)' },
  memory: { type: 'string', arg: 'SIZE', default: '256MB', help: "DuckDB's memory limit (it spills to disk past it)" },
  threads: { type: 'integer', min: 1, max: 64, default: 2, help: "DuckDB's threads" },
  'slice-mb': { type: 'number', arg: 'MB', help: 'input per time slice (default: sized for the memory limit)' },
} as const satisfies Record<string, CliOption>;

/** Where the log is and how DuckDB reads it, plus how outcomes attribute to decisions. */
export const LOG_OPTIONS = {
  ...LOG_SOURCE_OPTIONS,
  label: { type: 'string', arg: 'NAMES', default: 'click', help: 'the outcomes that make a positive example, comma-separated' },
  window: { type: 'string', arg: 'DURATION', default: '30m', help: 'how long after its decision an outcome counts (30s, 30m, 2h, 1d)' },
  grace: { type: 'string', arg: 'DURATION', default: '10m', help: "how far the log's clock passes a window before its decision is final" },
  skew: { type: 'string', arg: 'DURATION', default: '1m', help: 'how far an outcome may precede its decision (clock skew)' },
  served: {
    type: 'string',
    arg: 'NAMES',
    help: 'outcomes that say a decision was shown; others are no example (none: every decision; bids: win,billing)',
  },
} as const satisfies Record<string, CliOption>;

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
  threads?: number | undefined;
  /** input per time slice, in MB (log/slices.ts) */
  'slice-mb'?: number | undefined;
}

/** The log the arguments name, open for reading (close it when done). */
export function openLogOf(a: LogArgs): Promise<LogHandle> {
  const mb = a['slice-mb'];
  if (mb !== undefined && !(mb > 0)) throw new UsageError(`--slice-mb must be a positive number, got "${mb}"`);
  return openLog({
    log: a.log,
    r2Local: a['r2-local'],
    persist: a.persist,
    site: a.site,
    memory: a.memory,
    threads: a.threads,
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

/** A duration option (30m, 1h, 7d); a malformed one is the user's mistake. */
function durationOption(raw: string, name: string): number {
  try {
    return parseDuration(raw);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

export function joinOptions(a: LogArgs): JoinOptions {
  // A bid's ad is seen only when it won: by default its examples are the won bids (a win or
  // billing notice in the window), or every lost bid would teach pCTR that ads are not clicked.
  const served = a.served ?? (a.kind === 'bid' ? 'win,billing' : 'none');
  return {
    labels: names(a.label ?? 'click'),
    windowMs: durationOption(a.window ?? '30m', 'window'),
    graceMs: durationOption(a.grace ?? '10m', 'grace'),
    skewMs: durationOption(a.skew ?? '1m', 'skew'),
    ...(served === 'none' ? {} : { served: names(served) }),
  };
}
