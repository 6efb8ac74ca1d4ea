/**
 * One shape for every command-line tool: the options are defined once, each with a one-line
 * description, and that gives the parseArgs config, the typed values (numbers checked and
 * converted, choices and required options checked), the usage text and the exits:
 *
 *   --help / -h                    usage on stdout, exit 0
 *   a bad command line             `tool: what is wrong`, then the usage, on stderr, exit 2
 *   a user's mistake while running `tool: message` on stderr, exit 1 (a CliError, a missing or
 *                                  unreadable file, bad JSON): one line, never a stack trace
 *   anything else                  the same one line, plus a hint; ATTUNE_DEBUG=1 shows the stack
 *
 * A tool: `cliMain(import.meta.url, SPEC, async ({ values, positionals }) => { … })`.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export type OptionKind = 'string' | 'boolean' | 'number' | 'integer';

export interface CliOption {
  readonly type: OptionKind;
  /** one line, shown in the usage */
  readonly help: string;
  /** the value's placeholder in the usage (default by kind: VALUE, N) */
  readonly arg?: string;
  readonly short?: string;
  readonly multiple?: boolean;
  readonly required?: boolean;
  readonly default?: string | number | boolean;
  /** numbers: the allowed range, inclusive */
  readonly min?: number;
  readonly max?: number;
  /** strings: the allowed values */
  readonly choices?: readonly string[];
}

export interface CliSpec<O extends Record<string, CliOption> = Record<string, CliOption>> {
  /** the prefix of error lines, e.g. `import:obd` */
  readonly name: string;
  /** the synopsis lines, as the user types them (`npm run import:obd -- --in DIR --out DIR`) */
  readonly usage: string | readonly string[];
  /** what the tool does, a sentence or two */
  readonly summary: string;
  readonly options: O;
  /** the positional arguments allowed (none if unset) */
  readonly positionals?: { readonly min?: number; readonly max?: number; readonly name?: string };
  /** subcommands, each with a one-line description */
  readonly commands?: readonly (readonly [usage: string, help: string])[];
  /** lines after the options: environment variables, examples */
  readonly notes?: readonly string[];
}

type ValueOf<T extends CliOption> = T['type'] extends 'boolean' ? boolean : T['type'] extends 'string' ? string : number;
export type CliValues<O extends Record<string, CliOption>> = {
  -readonly [K in keyof O]: O[K] extends { multiple: true }
    ? ValueOf<O[K]>[]
    : O[K] extends { default: string | number | boolean } | { required: true } | { type: 'boolean' }
      ? ValueOf<O[K]>
      : ValueOf<O[K]> | undefined;
};

export interface ParsedCli<O extends Record<string, CliOption>> {
  readonly values: CliValues<O>;
  readonly positionals: string[];
}

/** A tool's body: its exit code, or nothing for 0. */
// biome-ignore lint/suspicious/noConfusingVoidType: an async body that returns nothing is a success
export type CliMainFn<O extends Record<string, CliOption>> = (args: ParsedCli<O>) => Promise<number | void> | number | void;

/** A mistake in the command line: the tool exits 2 with the message and the usage. */
export class UsageError extends Error {}
/** A failure the user can act on (a missing file, an unreachable server): one line, exit 1 (or `exitCode`). */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}
/** `--help` was asked for. */
class HelpRequested extends Error {}

const placeholder = (o: CliOption) => o.arg ?? (o.type === 'number' || o.type === 'integer' ? 'N' : 'VALUE');

function optionLabel(name: string, o: CliOption): string {
  const flag = `${o.short ? `-${o.short}, ` : ''}--${name}`;
  return o.type === 'boolean' ? flag : `${flag} ${placeholder(o)}`;
}

/** `text` in lines of at most `width` characters, broken at spaces. */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}

export function usageText(spec: CliSpec): string {
  const lines = (typeof spec.usage === 'string' ? [spec.usage] : spec.usage).map((u, i) => `${i === 0 ? 'Usage:' : '      '} ${u}`);
  lines.push('', ...wrap(spec.summary, 96));
  if (spec.commands?.length) {
    const width = Math.max(...spec.commands.map(([u]) => u.length)) + 2;
    lines.push('', 'Commands:', ...spec.commands.map(([u, h]) => `  ${u.padEnd(width)}${h}`));
  }
  const rows: [string, string][] = Object.entries(spec.options).map(([name, o]) => {
    const extra = [
      o.required ? 'required' : '',
      o.choices ? `one of ${o.choices.join(', ')}` : '',
      o.default !== undefined && o.default !== false ? `default ${o.default}` : '',
      o.multiple ? 'repeatable' : '',
    ].filter(Boolean);
    return [optionLabel(name, o), `${o.help}${extra.length ? ` (${extra.join('; ')})` : ''}`];
  });
  rows.push(['-h, --help', 'show this help']);
  const width = Math.min(28, Math.max(...rows.map(([l]) => l.length)) + 2);
  lines.push('', 'Options:');
  for (const [label, help] of rows)
    lines.push(label.length + 2 > width ? `  ${label}\n  ${''.padEnd(width)}${help}` : `  ${label.padEnd(width)}${help}`);
  if (spec.notes?.length) lines.push('', ...spec.notes);
  return lines.join('\n');
}

/** parseArgs' messages, as one plain line each. */
function plainParseError(err: { code?: string; message: string }): string {
  // "Option '-q, --quiet' does not take an argument": name the long form
  const option = /'[^']*?(--[\w-]+)[^']*'/.exec(err.message)?.[1] ?? /'(-[^' ,]+)/.exec(err.message)?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? err.message}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${/'([^']*)'/.exec(err.message)?.[1] ?? ''}`.trimEnd();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(err.message)) return `${option} takes no value`;
      if (/ambiguous/.test(err.message)) return `${option} needs a value (to give one that starts with -, write ${option}=VALUE)`;
      return `${option} needs a value`;
    default:
      return err.message.split('\n')[0]!;
  }
}

function convert(name: string, o: CliOption, raw: string): string | number {
  if (o.type === 'string') {
    if (o.choices && !o.choices.includes(raw)) throw new UsageError(`--${name} must be one of ${o.choices.join(', ')}; got "${raw}"`);
    return raw;
  }
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  const whole = o.type === 'integer';
  const range =
    o.min !== undefined && o.max !== undefined
      ? ` from ${o.min} to ${o.max}`
      : o.min !== undefined
        ? ` ≥ ${o.min}`
        : o.max !== undefined
          ? ` ≤ ${o.max}`
          : '';
  if (!Number.isFinite(n) || (whole && !Number.isInteger(n)) || (o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max))
    throw new UsageError(`--${name} must be ${whole ? 'an integer' : 'a number'}${range}; got "${raw}"`);
  return n;
}

/** The values and positionals of `argv`; throws UsageError (or HelpRequested) for the runner. */
export function parseCli<O extends Record<string, CliOption>>(spec: CliSpec<O>, argv: readonly string[]): ParsedCli<O> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, o] of Object.entries(spec.options))
    options[name] = {
      type: o.type === 'boolean' ? 'boolean' : 'string',
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: spec.positionals !== undefined, strict: true });
  } catch (err) {
    const end = argv.indexOf('--');
    if ((end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h')) throw new HelpRequested();
    throw new UsageError(plainParseError(err as { code?: string; message: string }));
  }
  if (parsed.values.help) throw new HelpRequested();
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    const raw = parsed.values[name];
    if (raw === undefined) {
      if (o.required) throw new UsageError(`--${name} is required (${o.help})`);
      values[name] = o.multiple ? [] : (o.default ?? (o.type === 'boolean' ? false : undefined));
    } else if (o.type === 'boolean') values[name] = raw;
    else values[name] = Array.isArray(raw) ? raw.map((r: string) => convert(name, o, r)) : convert(name, o, raw as string);
  }
  const { min = 0, max = Infinity, name } = spec.positionals ?? {};
  const n = parsed.positionals.length;
  if (n < min) throw new UsageError(name ? `missing ${name}` : `expected at least ${min} argument${min === 1 ? '' : 's'}, got ${n}`);
  if (n > max) throw new UsageError(`unexpected argument ${parsed.positionals[max]}`);
  return { values: values as CliValues<O>, positionals: parsed.positionals };
}

/** A date option's value (ISO 8601, or epoch milliseconds) as ms since epoch; undefined when not given. */
export function dateOption(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw new UsageError(`--${name} must be an ISO 8601 date (2026-11-01T00:00:00Z) or epoch ms, got "${raw}"`);
  return ms;
}

/** A JSON option's value, parsed. */
export function jsonOption(raw: string, name: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new UsageError(`--${name} is not valid JSON: ${raw}`);
  }
}

/** Errors a user can act on from the message alone: no stack trace for them. */
function isUserFacing(err: unknown): boolean {
  if (err instanceof CliError || err instanceof UsageError || err instanceof SyntaxError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code); // ENOENT, EACCES, EISDIR, ECONNREFUSED…
}

/** A system error as a person reads it: `cannot read x.json: no such file or directory`. */
export function describeError(err: unknown): string {
  const e = err as { code?: string; syscall?: string; path?: string; message?: string };
  if (typeof e?.code === 'string' && e.path && e.syscall) {
    const what = /ENOENT/.test(e.code)
      ? 'no such file or directory'
      : (e.message ?? '').replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
    const verb =
      e.syscall === 'open' || e.syscall === 'read' || e.syscall === 'scandir' || e.syscall === 'stat'
        ? 'cannot read'
        : `cannot ${e.syscall}`;
    return `${verb} ${e.path}: ${what}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

const consoleIo: CliIo = { out: (t) => console.log(t), err: (t) => console.error(t) };

/** Parses `argv`, runs `main` and turns every outcome into an exit code (see the top of the file). */
export async function runCli<O extends Record<string, CliOption>>(
  spec: CliSpec<O>,
  main: CliMainFn<O>,
  argv: readonly string[] = process.argv.slice(2),
  io: CliIo = consoleIo,
): Promise<number> {
  try {
    return (await main(parseCli(spec, argv))) ?? 0;
  } catch (err) {
    if (err instanceof HelpRequested) {
      io.out(usageText(spec));
      return 0;
    }
    if (err instanceof UsageError) {
      io.err(`${spec.name}: ${err.message}\n\n${usageText(spec)}`);
      return 2;
    }
    const debug = (io.env ?? process.env).ATTUNE_DEBUG === '1';
    if (debug) io.err(err instanceof Error && err.stack ? err.stack : String(err));
    else if (isUserFacing(err)) io.err(`${spec.name}: ${describeError(err)}`);
    else io.err(`${spec.name}: ${describeError(err)} (unexpected; ATTUNE_DEBUG=1 shows where)`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}

/** Runs the tool when its file is the program (not when a test imports it). */
export async function cliMain<O extends Record<string, CliOption>>(moduleUrl: string, spec: CliSpec<O>, main: CliMainFn<O>): Promise<void> {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  process.exitCode = await runCli(spec, main);
}

/**
 * For scripts whose body is top-level code (the benches): the parsed command line, or the
 * process ends here (usage and exit 0 for --help; the message, the usage and exit 2 for a bad one).
 */
export function cliArgs<O extends Record<string, CliOption>>(
  spec: CliSpec<O>,
  argv: readonly string[] = process.argv.slice(2),
): ParsedCli<O> {
  try {
    return parseCli(spec, argv);
  } catch (err) {
    if (err instanceof HelpRequested) {
      console.log(usageText(spec));
      process.exit(0);
    }
    console.error(`${spec.name}: ${describeError(err)}\n\n${usageText(spec)}`);
    process.exit(2);
  }
}
