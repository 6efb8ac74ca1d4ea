/**
 * `npm run deploy -- --site-origin https://shop.example [options]`: a first (or any later) deploy
 * to the Cloudflare account wrangler is logged in to. Finds or creates what wrangler.toml binds
 * (the KV namespace, the R2 bucket, the queue and its dead-letter queue; the rate limiter's
 * namespace and the Durable Objects' migrations come with `wrangler deploy` itself), sets the
 * secrets that are missing (from the environment, or random ones when asked; a random value is
 * shown once, at the end), writes wrangler.deploy.jsonc (deploy-config.ts) and deploys it.
 * `--dry-run` runs no wrangler command and writes nothing: it prints the commands a first deploy
 * runs and the config it writes. docs/operations.md walks through it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseExchangeKeys } from '../src/core/bidding/exchange-keys.ts';
import { secretProblem } from '../src/core/secret-strength.ts';
import { CliError, cliMain, type CliSpec, UsageError } from '../src/train/cli.ts';
import {
  checkOrigin,
  configText,
  DEPLOY_CONFIG,
  type DeploySettings,
  deployConfig,
  previousSettings,
  type RawConfig,
  readTemplate,
  resourcesOf,
  routeHost,
} from './deploy-config.ts';

export interface WranglerResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}
/** Runs `wrangler <args>`; `show` streams its output to the operator as well (the deploy itself). */
export type Wrangler = (args: readonly string[], opts?: { show?: boolean }) => Promise<WranglerResult>;

export interface DeployIo {
  readonly log: (line: string) => void;
  /** the config file's text, written (not in a dry run) */
  readonly writeConfig: (path: string, text: string) => void;
  /** yes/no from the operator; null when nobody can answer (no terminal) */
  readonly confirm: (question: string) => Promise<boolean | null>;
  readonly env: NodeJS.ProcessEnv;
}

export interface DeployRun {
  readonly settings: DeploySettings;
  readonly template: string;
  readonly out: string;
  readonly generateSecrets: boolean;
  /** exchanges to create keys for when EXCHANGE_KEYS is not set yet */
  readonly exchanges: readonly string[];
  readonly dryRun: boolean;
}

/** Secrets the Worker needs; missing ones are set from the environment or generated. */
const REQUIRED_SECRETS = ['SIGNING_SECRET', 'ADMIN_TOKEN'] as const;
/** Secrets set only when the environment has them (EXCHANGE_KEYS also from --exchange). */
const OPTIONAL_SECRETS = ['EXCHANGE_KEYS', 'PARTNER_TOKENS'] as const;

const random = () => randomBytes(24).toString('base64url');
const fail = (what: string, r: WranglerResult) =>
  new CliError(`${what} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-6).join(' ').slice(0, 600)}`);

async function ensureKv(wrangler: Wrangler, title: string): Promise<string> {
  const find = async () => {
    const r = await wrangler(['kv', 'namespace', 'list']);
    if (r.code !== 0) throw fail('listing KV namespaces', r);
    const json = r.stdout.slice(r.stdout.indexOf('['), r.stdout.lastIndexOf(']') + 1);
    return ((JSON.parse(json || '[]') as { id: string; title: string }[]).find((n) => n.title === title) ?? null)?.id ?? null;
  };
  const existing = await find();
  if (existing) return existing;
  const r = await wrangler(['kv', 'namespace', 'create', title]);
  if (r.code !== 0) throw fail(`creating KV namespace ${title}`, r);
  const id = /\bid\b"?\s*[=:]\s*"([0-9a-f]{32}|<[^>"]+>)"/.exec(r.stdout)?.[1] ?? (await find());
  if (!id) throw new CliError(`created KV namespace ${title} but could not read its id: ${r.stdout.trim().slice(0, 300)}`);
  return id;
}

async function ensureBuckets(wrangler: Wrangler, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const r = await wrangler(['r2', 'bucket', 'list']);
  if (r.code !== 0) throw fail('listing R2 buckets', r);
  const have = new Set([...r.stdout.matchAll(/^name:\s+(\S+)\s*$/gm)].map((m) => m[1]));
  for (const name of names) {
    if (have.has(name)) continue;
    const c = await wrangler(['r2', 'bucket', 'create', name]);
    if (c.code !== 0) throw fail(`creating R2 bucket ${name}`, c);
  }
}

async function ensureQueues(wrangler: Wrangler, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const r = await wrangler(['queues', 'info', name]);
    if (r.code === 0) continue;
    if (!/does not exist|not found/i.test(r.stderr + r.stdout)) throw fail(`looking up queue ${name}`, r);
    const c = await wrangler(['queues', 'create', name]);
    if (c.code !== 0) throw fail(`creating queue ${name}`, c);
  }
}

async function existingSecrets(wrangler: Wrangler, worker: string): Promise<Set<string>> {
  const r = await wrangler(['secret', 'list', '--name', worker, '--format', 'json']);
  if (r.code !== 0) {
    if (/does not exist|not found|10007/i.test(r.stderr + r.stdout)) return new Set(); // a first deploy
    throw fail('listing secrets', r);
  }
  const json = r.stdout.slice(r.stdout.indexOf('['), r.stdout.lastIndexOf(']') + 1);
  return new Set((JSON.parse(json || '[]') as { name: string }[]).map((s) => s.name));
}

/** The secrets to upload with this deploy, and which of them were generated here. */
async function missingSecrets(
  have: Set<string>,
  run: DeployRun,
  io: DeployIo,
): Promise<{ values: Record<string, string>; generated: string[]; notes: string[] }> {
  const values: Record<string, string> = {};
  const notes: string[] = [];
  const toGenerate: string[] = [];
  for (const name of REQUIRED_SECRETS) {
    if (have.has(name)) continue;
    // A Worker deployed before the rename signs with PROFILE_SECRET, which it still reads: a new
    // random SIGNING_SECRET would win over it and invalidate every cookie and notice in flight.
    if (name === 'SIGNING_SECRET' && have.has('PROFILE_SECRET')) {
      notes.push(
        'the signing secret is set as PROFILE_SECRET, a deprecated name: `npx wrangler secret put SIGNING_SECRET` with the same value, then delete PROFILE_SECRET (docs/operations.md)',
      );
      continue;
    }
    if (io.env[name]) values[name] = io.env[name]!;
    else toGenerate.push(name);
  }
  for (const name of OPTIONAL_SECRETS) if (!have.has(name) && io.env[name]) values[name] = io.env[name]!;
  if (!have.has('EXCHANGE_KEYS') && !values.EXCHANGE_KEYS && run.exchanges.length > 0) toGenerate.push('EXCHANGE_KEYS');
  // the Worker would treat a short or example secret as not set (core/secret-strength.ts): say so now
  for (const name of ['SIGNING_SECRET', 'ADMIN_TOKEN', 'PARTNER_TOKENS'] as const) {
    const given = values[name];
    if (given === undefined) continue;
    const list = name === 'PARTNER_TOKENS';
    const entries = list ? given.split(',').map((t) => t.trim()) : [given];
    for (const [i, t] of entries.entries()) {
      const problem = t === '' ? null : secretProblem(t);
      if (problem !== null)
        throw new UsageError(`${name}${list ? ` entry ${i + 1}` : ''} is ${problem}: the Worker would treat it as not set`);
    }
  }
  if (values.EXCHANGE_KEYS) {
    const problems = parseExchangeKeys(values.EXCHANGE_KEYS).problems;
    if (problems.length > 0) throw new UsageError(`EXCHANGE_KEYS ${problems[0]}`);
  }
  if (!have.has('EXCHANGE_KEYS') && !values.EXCHANGE_KEYS && !toGenerate.includes('EXCHANGE_KEYS'))
    notes.push('EXCHANGE_KEYS is not set: every bid request is refused until it is (--exchange ID, or docs/bidding.md)');
  if (toGenerate.length > 0 && !run.generateSecrets && !run.dryRun) {
    const answer = await io.confirm(`Secrets ${toGenerate.join(', ')} are not set. Generate random values (shown once, at the end)?`);
    if (answer !== true)
      throw new CliError(
        `missing secrets ${toGenerate.join(', ')}: set them in the environment (e.g. ADMIN_TOKEN=… npm run deploy …) or pass --generate-secrets for random ones`,
      );
  }
  for (const name of toGenerate)
    values[name] = run.dryRun ? '<random>' : name === 'EXCHANGE_KEYS' ? run.exchanges.map((e) => `${e}:${random()}`).join(',') : random();
  return { values, generated: toGenerate, notes };
}

/** The whole deploy; returns the exit code. `wrangler` and `io` are the only ways it touches anything. */
export async function deploy(run: DeployRun, wrangler: Wrangler, io: DeployIo): Promise<number> {
  const template = await readTemplate(run.template);
  const worker = template.name ?? 'attune';
  const res = resourcesOf(template);
  if (run.dryRun)
    io.log(`dry run: the commands of a first deploy (a real run lists first and skips what exists); nothing is run or written.\n`);
  const who = await wrangler(['whoami', '--json']);
  if (who.code !== 0)
    throw new CliError('not logged in to Cloudflare: run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN), then deploy again');
  const kvIds = new Map<string, string>();
  for (const { binding, title } of res.kv) kvIds.set(binding, await ensureKv(wrangler, title));
  await ensureBuckets(wrangler, res.buckets);
  await ensureQueues(wrangler, res.queues);
  const secrets = await missingSecrets(await existingSecrets(wrangler, worker), run, io);

  const config: RawConfig = deployConfig(template, kvIds, run.settings);
  const text = configText(config, run.settings, run.template);
  if (run.dryRun) io.log(`\nwould write ${run.out}:\n${text}`);
  else io.writeConfig(run.out, text);

  const names = Object.keys(secrets.values);
  let dir: string | null = null;
  const args = ['deploy', '-c', run.out];
  if (names.length > 0) {
    if (run.dryRun) args.push('--secrets-file', `<a private temporary file with ${names.join(', ')}>`);
    else {
      dir = mkdtempSync(join(tmpdir(), 'attune-deploy-'));
      const file = join(dir, 'secrets.json');
      writeFileSync(file, JSON.stringify(secrets.values), { mode: 0o600 });
      args.push('--secrets-file', file);
    }
  }
  let deployed: WranglerResult;
  try {
    deployed = await wrangler(args, { show: true });
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  if (deployed.code !== 0) throw fail('wrangler deploy', deployed);
  for (const n of secrets.notes) io.log(`note: ${n}`);
  if (run.dryRun) return 0;
  const url = /https:\/\/[^\s"']+\.workers\.dev/.exec(deployed.stdout)?.[0];
  io.log(`\ndeployed ${worker}${url ? ` at ${url}` : ''}; ALLOWED_ORIGINS=${run.settings.siteOrigins.join(',')}`);
  if (secrets.generated.length > 0) {
    io.log('\nNew secrets, shown this once (keep them in your password manager; `npx wrangler secret put NAME` replaces one):');
    for (const name of secrets.generated) io.log(`  ${name}=${secrets.values[name]}`);
  }
  io.log(`\nnext: npm run models:publish -- --remote   (the namespace starts empty: decisions fall back until models are published)`);
  return 0;
}

/** What a dry run answers in place of wrangler: an account where nothing exists yet. */
export function plannedWrangler(log: (line: string) => void): Wrangler {
  return async (args) => {
    const line = `wrangler ${args.join(' ')}`;
    const [a, b, c] = args;
    const ifMissing = (a === 'kv' || a === 'r2' || a === 'queues') && (b === 'create' || c === 'create');
    log(`  ${line}${ifMissing ? '   (if missing)' : ''}`);
    if (a === 'kv' && c === 'create') return { code: 0, stdout: `id = "<id of new namespace ${args[3]}>"`, stderr: '' };
    if (a === 'queues' && b === 'info') return { code: 1, stdout: '', stderr: `Queue "${c}" does not exist.` };
    if (a === 'secret') return { code: 1, stdout: '', stderr: 'This Worker does not exist on your account. [code: 10007]' };
    return { code: 0, stdout: a === 'kv' ? '[]' : '', stderr: '' };
  };
}

/** The real wrangler, from this checkout's node_modules, on the Node running this script. */
export function localWrangler(env: NodeJS.ProcessEnv): Wrangler {
  const bin = join(dirname(createRequire(import.meta.url).resolve('wrangler/package.json')), 'bin', 'wrangler.js');
  return (args, opts = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...args], {
        env: { ...env, WRANGLER_SEND_METRICS: 'false' },
        stdio: ['inherit', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
        if (opts.show) process.stdout.write(d);
      });
      child.stderr.on('data', (d) => {
        stderr += d;
        if (opts.show) process.stderr.write(d);
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
}

export const SPEC = {
  name: 'deploy',
  usage: [
    'npm run deploy -- --site-origin https://shop.example [--origin URL] [--route PATTERN --zone ZONE | --domain HOST]',
    'npm run deploy -- --dry-run --site-origin https://shop.example',
  ],
  summary:
    "Deploys the Worker to the Cloudflare account wrangler is logged in to (npx wrangler login): creates what is missing (KV namespace, R2 bucket, queue and dead-letter queue), sets missing secrets, writes wrangler.deploy.jsonc with the real ids and the site's settings, and runs wrangler deploy. Later runs without flags reuse the settings of the last one.",
  options: {
    'site-origin': {
      type: 'string',
      arg: 'ORIGIN',
      multiple: true,
      help: 'the site whose pages call the API from browsers (ALLOWED_ORIGINS)',
    },
    origin: { type: 'string', arg: 'URL', help: "proxy mode: the site's own origin the Worker fetches pages from (ORIGIN_URL)" },
    route: { type: 'string', arg: 'PATTERN', multiple: true, help: 'a Workers route on your zone, e.g. shop.example/* (needs --zone)' },
    zone: { type: 'string', arg: 'ZONE', help: "the routes' zone, e.g. shop.example" },
    domain: { type: 'string', arg: 'HOST', multiple: true, help: 'a custom domain the Worker serves itself, e.g. edge.shop.example' },
    exchange: { type: 'string', arg: 'ID', multiple: true, help: 'create a bid key for this exchange when EXCHANGE_KEYS is not set yet' },
    'generate-secrets': { type: 'boolean', help: 'generate missing secrets without asking' },
    'account-id': { type: 'string', arg: 'ID', help: 'the Cloudflare account, when the login has several (env CLOUDFLARE_ACCOUNT_ID)' },
    config: { type: 'string', arg: 'FILE', default: 'wrangler.toml', help: 'the template config' },
    out: { type: 'string', arg: 'FILE', default: DEPLOY_CONFIG, help: 'the generated config' },
    'dry-run': { type: 'boolean', help: 'print the commands and the config of a first deploy; run and write nothing' },
  },
  notes: [
    'Secrets: SIGNING_SECRET and ADMIN_TOKEN (required), EXCHANGE_KEYS and PARTNER_TOKENS (optional) are',
    'taken from the environment when set there; existing secrets are left alone. docs/operations.md,',
    'docs/connect-your-site.md.',
  ],
} as const satisfies CliSpec;

/** The settings of this run: the flags, else those of the last deploy. */
export function settingsFrom(
  values: {
    'site-origin': string[];
    origin?: string | undefined;
    route: string[];
    zone?: string | undefined;
    domain: string[];
  },
  previous: DeploySettings | null,
): DeploySettings {
  const given = values['site-origin'].length > 0 || values.origin || values.route.length > 0 || values.domain.length > 0;
  const base: DeploySettings =
    given || !previous
      ? { siteOrigins: values['site-origin'], originUrl: values.origin, routes: values.route, zone: values.zone, domains: values.domain }
      : previous;
  if (base.siteOrigins.length === 0)
    throw new UsageError('--site-origin is required: the origin of the site whose pages call the API (e.g. https://shop.example)');
  const siteOrigins = base.siteOrigins
    .flatMap((o) => o.split(','))
    .map((o) => {
      if (o.trim() === '*')
        throw new UsageError("--site-origin: name the site; * would let any site call the API from its visitors' browsers");
      try {
        return checkOrigin('--site-origin', o.trim());
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    });
  if (base.routes.length > 0 && !base.zone) throw new UsageError('--route needs --zone (the zone the route is on, e.g. shop.example)');
  let originUrl = base.originUrl;
  if (originUrl) {
    try {
      originUrl = checkOrigin('--origin', originUrl);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    // A custom domain makes the Worker that hostname's origin: nothing else answers there, and
    // each page fetch would come back to the Worker. (A route's same-zone fetch goes to the
    // origin server instead, so a route may proxy its own hostname.)
    const host = new URL(originUrl).hostname;
    const domains = base.domains.map(routeHost);
    if (domains.includes(host))
      throw new UsageError(
        `--origin ${originUrl} is a custom domain the Worker serves itself (${domains.join(', ')}): each page fetch would come back to the Worker. Point it at the origin's own hostname (e.g. https://origin.${host})`,
      );
  }
  return { siteOrigins, originUrl, routes: base.routes, zone: base.zone, domains: base.domains };
}

await cliMain(import.meta.url, SPEC, async ({ values }) => {
  const settings = settingsFrom(values, previousSettings(values.out));
  const env = { ...process.env, ...(values['account-id'] ? { CLOUDFLARE_ACCOUNT_ID: values['account-id'] } : {}) };
  const run: DeployRun = {
    settings,
    template: values.config,
    out: values.out,
    generateSecrets: values['generate-secrets'],
    exchanges: values.exchange,
    dryRun: values['dry-run'],
  };
  const io: DeployIo = {
    log: (l) => console.log(l),
    writeConfig: (path, text) => {
      writeFileSync(path, text);
      console.log(`wrote ${path}`);
    },
    confirm: async (q) => {
      if (!process.stdin.isTTY) return null;
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      try {
        return /^(y|yes|)$/i.test((await rl.question(`${q} [Y/n] `)).trim());
      } finally {
        rl.close();
      }
    },
    env,
  };
  return deploy(run, run.dryRun ? plannedWrangler(io.log) : localWrangler(env), io);
});
