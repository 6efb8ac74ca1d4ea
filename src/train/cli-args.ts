/**
 * What every Node CLI does with its arguments: `--help` / `-h` prints the usage and exits 0; a
 * user's mistake (an unknown option, a missing or malformed value) prints one line saying what
 * is wrong, then the usage, and exits 2; any other failure prints one line and exits 1. No stack
 * trace reaches the user (ATTUNE_DEBUG=1 shows it).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in the command line: reported with the usage, exit 2. */
export class UsageError extends Error {}

/** node:util's parseArgs, its errors turned into one-line UsageErrors. */
export function parseCli<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (!e.code?.startsWith('ERR_PARSE_ARGS')) throw err;
    const unknown = /Unknown option '([^']+)'/.exec(e.message);
    if (unknown) throw new UsageError(`unknown option ${unknown[1]}`);
    const missing = /Option '(-[^' ]+)(?: <value>)?' argument missing/.exec(e.message);
    if (missing) throw new UsageError(`${missing[1]} needs a value`);
    // node's own messages run on with advice about positionals: keep the first sentence
    throw new UsageError(e.message.split(/\.\s/)[0]!.replace(/\.$/, ''));
  }
}

/** A number option: finite, and within [min, max] when given. */
export function numberOption(raw: string | undefined, fallback: number, name: string, min = -Infinity, max = Infinity): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${raw}"`);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${raw}`);
  return n;
}

/** An ISO 8601 date (or epoch milliseconds) option, as ms since epoch. */
export function dateOption(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw new UsageError(`--${name} must be an ISO 8601 date (2026-11-01T00:00:00Z) or epoch ms, got "${raw}"`);
  return ms;
}

/** A JSON option, parsed. */
export function jsonOption(raw: string, name: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new UsageError(`--${name} is not valid JSON: ${raw}`);
  }
}

/** Runs a CLI's main with the error handling above. */
export function runCli(name: string, usage: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const debug = process.env.ATTUNE_DEBUG === '1';
    if (err instanceof UsageError) {
      console.error(`${name}: ${err.message}\n\n${usage}`);
      process.exit(2);
    }
    console.error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    if (debug && err instanceof Error) console.error(err.stack);
    process.exit(1);
  });
}
