/**
 * The options every log-reading CLI shares (train, evaluate): where the log is, how outcomes
 * attribute to decisions, and the time range it covers.
 */
import type { JoinOptions } from './attribution.ts';
import { parseDuration } from './attribution.ts';
import { CliError, type CliOption, UsageError } from './cli.ts';
import { FUTURE_SLACK_MS, localR2Sources, pathSources, readRecords, type LogSource } from './log-reader.ts';

/** The options every log-reading tool takes (train, evaluate): `options: { ...LOG_OPTIONS, … }` (cli.ts). */
export const LOG_OPTIONS = {
  log: { type: 'string', arg: 'DIR|FILE', multiple: true, help: 'the outcome log: a folder of .ndjson[.gz] files, or one file' },
  'r2-local': { type: 'boolean', default: false, help: "read the local R2 log that npm start's Worker wrote, instead of --log" },
  persist: { type: 'string', arg: 'DIR', help: 'with --r2-local: the state folder, as wrangler dev --persist-to' },
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
}

export async function openSources(a: LogArgs): Promise<{ sources: LogSource[]; close: () => Promise<void> }> {
  if (a['r2-local']) return localR2Sources(a.persist);
  if (!a.log?.length) throw new UsageError('name the log: --log <folder|file> (repeatable) or --r2-local');
  const sources: LogSource[] = [];
  for (const p of a.log) sources.push(...(await pathSources(p)));
  if (sources.length === 0) throw new CliError(`no .ndjson / .ndjson.gz files under ${a.log.join(', ')}`);
  return { sources, close: async () => {} };
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

/**
 * A decision line as the log writer writes it, up to its `ts`: the light pass reads only this.
 * A line that is not written this way (another writer, a torn line) is read in full instead,
 * with the same checks `readRecords` makes, so the range covers exactly the decisions training
 * will read.
 */
const DECISION_HEAD = /^\{"type":"decision","v":\d+,"id":"(?:[^"\\]|\\.)*","ts":(\d+(?:\.\d+)?)[,}]/;

/** First and last decision time in the log: a light pass that parses only the `ts` field. */
export async function decisionTimeRange(sources: readonly LogSource[]): Promise<{ min: number; max: number; decisions: number }> {
  let min = Infinity;
  let max = -Infinity;
  let decisions = 0;
  const latest = Date.now() + FUTURE_SLACK_MS;
  for (const src of sources) {
    for await (const lines of src.lines()) {
      for (const line of lines) {
        if (!line.includes('"type":"decision"')) continue;
        let ts: number | undefined;
        const m = line.endsWith('}') ? DECISION_HEAD.exec(line) : null;
        if (m) ts = Number(m[1]);
        else {
          try {
            const r = JSON.parse(line) as { type?: unknown; id?: unknown; ts?: unknown } | null;
            if (r !== null && typeof r === 'object' && r.type === 'decision' && typeof r.id === 'string' && typeof r.ts === 'number')
              ts = r.ts;
          } catch {
            // unreadable: readRecords skips it too
          }
        }
        if (ts === undefined || !(ts <= latest)) continue;
        decisions++;
        if (ts < min) min = ts;
        if (ts > max) max = ts;
      }
    }
  }
  return { min, max, decisions };
}

export { readRecords };
