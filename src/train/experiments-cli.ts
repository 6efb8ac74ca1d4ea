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
 * Options: --url (env ATTUNE_URL, default http://127.0.0.1:8787), --token (env
 * ATTUNE_ADMIN_TOKEN, else ADMIN_TOKEN from ./.dev.vars for a local `npm start`).
 * Exits 1 with the API's error (code, field, message) when a call fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const USAGE =
  'usage: npm run experiments -- create <file> | update <key> <file> | launch|pause|resume|stop|archive|rerandomize <key> | list | get <key> | results <key> [--csv|--json]';

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
  return fetch(new URL(path, base), {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

type Flags = { winner?: string | undefined; status?: string | undefined; csv?: boolean | undefined };

/** The admin API call a command stands for. */
function request(base: string, token: string, positionals: string[], values: Flags): Promise<Response> {
  const [command, a1, a2] = positionals;
  const key = () => {
    if (!a1) throw new Error(`${command} needs an experiment key\n${USAGE}`);
    return encodeURIComponent(a1);
  };
  const config = (file: string | undefined) => {
    if (!file) throw new Error(`${command} needs a JSON config file\n${USAGE}`);
    return JSON.parse(readFileSync(file, 'utf8'));
  };
  switch (command) {
    case 'create':
      return call(base, token, 'POST', '/admin/experiments', config(a1));
    case 'update':
      return call(base, token, 'PUT', `/admin/experiments/${key()}`, config(a2));
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
      throw new Error(USAGE);
  }
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** Runs one command; returns the process exit code. */
export async function runCli(argv: string[], io: CliIo = { out: console.log, err: console.error }): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      winner: { type: 'string' },
      status: { type: 'string' },
      csv: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const command = positionals[0];
  const base = values.url ?? process.env.ATTUNE_URL ?? 'http://127.0.0.1:8787';
  const token = values.token ?? process.env.ATTUNE_ADMIN_TOKEN ?? localToken();
  if (!token) {
    io.err('no admin token: pass --token or set ATTUNE_ADMIN_TOKEN');
    return 2;
  }
  let res: Response;
  try {
    res = await request(base, token, positionals, values);
  } catch (err) {
    io.err(err instanceof Error ? err.message : String(err)); // usage errors, unreadable files, unreachable server
    return 2;
  }
  const text = await res.text();
  if (!res.ok) {
    io.err(`error ${res.status}: ${text}`);
    return 1;
  }
  if (command === 'results' && !values.csv && !values.json) {
    const r = JSON.parse(text);
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
    for (const e of JSON.parse(text).experiments)
      io.out(
        `${e.key.padEnd(24)} ${e.status.padEnd(9)} v${e.version} ${e.algorithm} [${e.arms.join(', ')}]${e.winner ? ` winner=${e.winner}` : ''}`,
      );
    return 0;
  }
  io.out(command === 'results' && values.csv ? text.trimEnd() : JSON.stringify(JSON.parse(text), null, 2));
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(2);
    },
  );
}
