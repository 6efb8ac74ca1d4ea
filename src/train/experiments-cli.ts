/**
 * `npm run experiments -- <command> …`: scripts bandit tests through the admin API.
 *
 *   create <config.json>              create a test (JSON as POST /admin/experiments takes it)
 *   update <key> <config.json>        edit a test (arms are fixed once launched)
 *   launch|pause|resume|archive|rerandomize <key>
 *   stop <key> [--winner <arm>]       all traffic to the winner (default: the most likely best arm)
 *   list [--status running]           one line per test
 *   get <key>                         the full config as JSON
 *   results <key> [--csv|--json]      per-arm table with the recommendation
 *
 * Options: --url (env ATTUNE_URL, default http://127.0.0.1:$PORT, 8787), --token (env
 * ATTUNE_ADMIN_TOKEN, else ADMIN_TOKEN from ./.dev.vars for a local `npm start`).
 * Exits 1 with the API's error (code, field, message) when a call fails, 2 for a bad command line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { type CliIo as Io, cliMain, CliError, type CliSpec, runCli as run, UsageError } from './cli.ts';
import { fetchWorker, URL_OPTION, workerUrl } from './worker-url.ts';

export const SPEC = {
  name: 'experiments',
  usage: 'npm run experiments -- COMMAND [ARGS] [--url URL] [--token TOKEN]',
  summary: 'Scripts bandit tests through the admin API of a running Worker (npm start, or a deployed one with --url and --token).',
  positionals: { min: 1, max: 3, name: 'COMMAND' },
  commands: [
    ['create FILE', 'create a test from a JSON config (as POST /admin/experiments takes it; docs/experiments.md)'],
    ['update KEY FILE', 'edit a test (arms are fixed once launched)'],
    ['launch|pause|resume|archive|rerandomize KEY', "change a test's status"],
    ['stop KEY [--winner ARM]', 'send all traffic to the winner (default: the most likely best arm)'],
    ['list [--status STATUS]', 'one line per test'],
    ['get KEY', 'the full config as JSON'],
    ['results KEY [--csv|--json]', 'per-arm table with the recommendation'],
  ],
  options: {
    url: URL_OPTION,
    token: { type: 'string', arg: 'TOKEN', help: 'the admin token (env ATTUNE_ADMIN_TOKEN; default ADMIN_TOKEN from ./.dev.vars)' },
    winner: { type: 'string', arg: 'ARM', help: 'stop: the arm that gets all traffic' },
    status: { type: 'string', arg: 'STATUS', help: 'list: only tests in this status (draft, running, paused, stopped, archived)' },
    csv: { type: 'boolean', help: 'results: as CSV' },
    json: { type: 'boolean', help: "results, list: the API's JSON as is" },
  },
} as const satisfies CliSpec;

function localToken(): string | undefined {
  if (!existsSync('.dev.vars')) return undefined;
  const m = /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync('.dev.vars', 'utf8'));
  return m?.[1]?.trim();
}

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

async function call(base: string, token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetchWorker(base, path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

type Flags = { winner?: string | undefined; status?: string | undefined; csv?: boolean | undefined };

function readConfig(command: string, file: string | undefined): unknown {
  if (!file) throw new UsageError(`${command} needs a JSON config file`);
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** The admin API call a command stands for. */
function request(base: string, token: string, positionals: string[], values: Flags): Promise<Response> {
  const [command = '', a1, a2] = positionals;
  const key = () => {
    if (!a1) throw new UsageError(`${command} needs an experiment key`);
    return encodeURIComponent(a1);
  };
  switch (command) {
    case 'create':
      return call(base, token, 'POST', '/admin/experiments', readConfig(command, a1));
    case 'update':
      return call(base, token, 'PUT', `/admin/experiments/${key()}`, readConfig(command, a2));
    case 'launch':
    case 'pause':
    case 'resume':
    case 'archive':
    case 'rerandomize':
      return call(base, token, 'POST', `/admin/experiments/${key()}/${command}`);
    case 'stop':
      return call(base, token, 'POST', `/admin/experiments/${key()}/stop`, values.winner ? { winner: values.winner } : {});
    case 'list':
      return call(base, token, 'GET', `/admin/experiments${values.status ? `?status=${encodeURIComponent(values.status)}` : ''}`);
    case 'get':
      return call(base, token, 'GET', `/admin/experiments/${key()}`);
    case 'results':
      return call(base, token, 'GET', `/admin/experiments/${key()}/results${values.csv ? '?format=csv' : ''}`);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** The admin API's JSON; anything else means --url names something that is not attune. */
// biome-ignore lint/suspicious/noExplicitAny: the API's answer, read field by field below
function answer(base: string, text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${base} did not answer with JSON: is it an attune Worker? (${JSON.stringify(text.slice(0, 60))}…)`);
  }
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** Runs one command; returns the process exit code. */
export function runCli(argv: string[], io: CliIo = { out: console.log, err: console.error }): Promise<number> {
  return run(SPEC, ({ values, positionals }) => runCommand(positionals, values, io), argv, io satisfies Io);
}

async function runCommand(
  positionals: string[],
  values: Flags & { url?: string | undefined; token?: string | undefined; json?: boolean | undefined },
  io: CliIo,
): Promise<number> {
  const command = positionals[0];
  const base = workerUrl(values.url);
  const token = values.token ?? process.env.ATTUNE_ADMIN_TOKEN ?? localToken();
  if (!token)
    throw new UsageError('no admin token: pass --token, set ATTUNE_ADMIN_TOKEN, or run from the checkout whose .dev.vars npm start wrote');
  const res = await request(base, token, positionals, values);
  const text = await res.text();
  if (!res.ok) {
    io.err(`error ${res.status}: ${text}`);
    return 1;
  }
  if (command === 'results' && !values.csv && !values.json) {
    const r = answer(base, text);
    io.out(
      `${r.key} (${r.status}, ${r.algorithm.name}) recommendation: ${r.recommendation}${r.recommendedArm ? ` → ${r.recommendedArm}` : ''}`,
    );
    io.out('arm           impressions  conversions  rate     95% CI              P(best)  exp.loss  uplift   allocation');
    for (const a of r.arms) {
      io.out(
        [
          a.arm.padEnd(12),
          String(a.impressions).padStart(12),
          String(a.conversions).padStart(12),
          pct(a.rate).padStart(8),
          `[${pct(a.rateLow)}, ${pct(a.rateHigh)}]`.padStart(20),
          a.probabilityBest.toFixed(3).padStart(8),
          a.expectedLoss.toFixed(5).padStart(9),
          (a.uplift ? pct(a.uplift.median) : 'control').padStart(8),
          (r.allocation ? pct(r.allocation[a.arm]) : '-').padStart(11),
        ].join(' '),
      );
    }
    return 0;
  }
  if (command === 'list' && !values.json) {
    for (const e of answer(base, text).experiments)
      io.out(
        `${e.key.padEnd(24)} ${e.status.padEnd(9)} v${e.version} ${e.algorithm} [${e.arms.join(', ')}]${e.winner ? ` winner=${e.winner}` : ''}`,
      );
    return 0;
  }
  io.out(command === 'results' && values.csv ? text.trimEnd() : JSON.stringify(answer(base, text), null, 2));
  return 0;
}

await cliMain(import.meta.url, SPEC, ({ values, positionals }) =>
  runCommand(positionals, values, { out: console.log, err: console.error }),
);
