// `npm run deploy` (scripts/deploy.ts): against a scripted wrangler, what it finds, creates,
// writes and uploads; and `--dry-run` as an operator runs it, offline, touching nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { previousSettings } from '../../scripts/deploy-config.ts';
import { deploy, type DeployRun, settingsFrom, type Wrangler, type WranglerResult } from '../../scripts/deploy.ts';

const KV_ID = '0123456789abcdef0123456789abcdef';
const ok = (stdout = ''): WranglerResult => ({ code: 0, stdout, stderr: '' });

/** An account with the KV namespace and the dead-letter queue, the Worker's `secrets` (an ADMIN_TOKEN), and nothing else. */
function account(secrets: readonly string[] = ['ADMIN_TOKEN']) {
  const calls: string[][] = [];
  let secretsUploaded: Record<string, string> | null = null;
  let secretsFile = '';
  const wrangler: Wrangler = async (args) => {
    calls.push([...args]);
    const cmd = args.slice(0, 3).join(' ');
    if (cmd.startsWith('whoami')) return ok('{"loggedIn":true}');
    if (cmd === 'kv namespace list')
      return ok(
        JSON.stringify(
          [
            { id: 'ffffffffffffffffffffffffffffffff', title: 'other' },
            { id: KV_ID, title: 'attune-models' },
          ],
          null,
          2,
        ),
      );
    if (cmd === 'r2 bucket list') return ok('Listing buckets...\nname:           someone-else\ncreation_date:  2026-01-01T00:00:00.000Z\n');
    if (cmd === 'r2 bucket create')
      return ok(`Creating bucket '${args[3]}'...\n✅ Created bucket '${args[3]}' with default storage class of Standard.`);
    if (cmd === 'queues info attune-events-dlq') return ok('Queue Name: attune-events-dlq\nQueue ID: 1');
    if (cmd === 'queues info attune-events') return { code: 1, stdout: '', stderr: '✘ [ERROR] Queue "attune-events" does not exist.' };
    if (cmd === 'queues create attune-events') return ok("🌀 Creating queue 'attune-events'\n✅ Created queue 'attune-events'");
    if (cmd.startsWith('secret list'))
      return ok(
        JSON.stringify(
          secrets.map((name) => ({ name, type: 'secret_text' })),
          null,
          2,
        ),
      );
    if (args[0] === 'deploy') {
      const i = args.indexOf('--secrets-file');
      secretsFile = args[i + 1] ?? '';
      secretsUploaded = i >= 0 ? JSON.parse(readFileSync(secretsFile, 'utf8')) : null;
      return ok('Uploaded attune\nDeployed attune triggers\n  https://attune.acme.workers.dev\nCurrent Version ID: 1');
    }
    return { code: 1, stdout: '', stderr: `unexpected: wrangler ${args.join(' ')}` };
  };
  return { calls, wrangler, uploaded: () => secretsUploaded, secretsFile: () => secretsFile };
}

function io(env: NodeJS.ProcessEnv = {}) {
  const lines: string[] = [];
  const files = new Map<string, string>();
  return {
    lines,
    files,
    io: { log: (l: string) => lines.push(l), writeConfig: (p: string, t: string) => void files.set(p, t), confirm: async () => null, env },
  };
}

const run = (over: Partial<DeployRun> = {}): DeployRun => ({
  settings: { siteOrigins: ['https://shop.example'], routes: [], domains: [] },
  template: 'wrangler.toml',
  out: 'wrangler.deploy.jsonc',
  generateSecrets: true,
  exchanges: [],
  dryRun: false,
  ...over,
});

describe('npm run deploy', () => {
  it('creates only what is missing, writes the real ids and the site into the config, uploads only missing secrets', async () => {
    const a = account();
    const o = io({ PARTNER_TOKENS: 'partner-one-0123456789abcdefghijk' });
    const settings = {
      siteOrigins: ['https://shop.example', 'https://www.shop.example'],
      routes: ['shop.example/*'],
      zone: 'shop.example',
      domains: [],
    };
    expect(await deploy(run({ settings, exchanges: ['adx'] }), a.wrangler, o.io)).toBe(0);
    expect(a.calls.map((c) => c.join(' '))).toEqual([
      'whoami --json',
      'kv namespace list',
      'r2 bucket list',
      'r2 bucket create attune-log',
      'queues info attune-events-dlq',
      'queues info attune-events',
      'queues create attune-events',
      'secret list --name attune --format json',
      expect.stringMatching(/^deploy -c wrangler\.deploy\.jsonc --secrets-file \S+secrets\.json$/),
    ]);
    const text = o.files.get('wrangler.deploy.jsonc')!;
    const config = JSON.parse(text.replace(/^\/\/.*\n/gm, ''));
    expect(config.kv_namespaces).toEqual([{ binding: 'KV', id: KV_ID }]);
    expect(config.vars.ALLOWED_ORIGINS).toBe('https://shop.example,https://www.shop.example');
    expect(config.routes).toEqual([{ pattern: 'shop.example/*', zone_name: 'shop.example' }]);
    expect(config.r2_buckets).toEqual([{ binding: 'LOG', bucket_name: 'attune-log' }]);
    expect(config.migrations.length).toBeGreaterThan(0); // the Durable Objects' migrations go with the deploy
    const secrets = a.uploaded()!;
    expect(Object.keys(secrets).sort()).toEqual(['EXCHANGE_KEYS', 'PARTNER_TOKENS', 'SIGNING_SECRET']); // ADMIN_TOKEN exists: left alone
    expect(secrets.SIGNING_SECRET).toMatch(/^[\w-]{32}$/);
    expect(secrets.EXCHANGE_KEYS).toMatch(/^adx:[\w-]{32}$/);
    expect(secrets.PARTNER_TOKENS).toBe('partner-one-0123456789abcdefghijk');
    expect(existsSync(a.secretsFile())).toBe(false); // removed once wrangler has read it
    // generated values are shown once, to the operator; the ones they gave are not echoed
    const out = o.lines.join('\n');
    expect(out).toContain(`SIGNING_SECRET=${secrets.SIGNING_SECRET}`);
    expect(out).toContain(`EXCHANGE_KEYS=${secrets.EXCHANGE_KEYS}`);
    expect(out).not.toContain('partner-one-0123456789abcdefghijk');
    expect(out).toContain('https://attune.acme.workers.dev');
    expect(previousSettingsOf(text)).toEqual(settings);
  }, 60_000); // the first test imports wrangler (its config reader)

  it('creates the KV namespace when missing and reads its id from what wrangler prints', async () => {
    const a = account();
    const wrangler: Wrangler = async (args) => {
      const cmd = args.slice(0, 3).join(' ');
      if (cmd === 'kv namespace list') return ok('[]');
      if (cmd === 'kv namespace create')
        return ok(
          `🌀 Creating namespace with title "attune-models"\n✨ Success!\nTo access your new KV Namespace in your Worker, add the following snippet to your configuration file:\n[[kv_namespaces]]\nbinding = "attune_models"\nid = "${KV_ID.replace('0', 'a')}"\n`,
        );
      return a.wrangler(args);
    };
    const o = io({ SIGNING_SECRET: 'p'.repeat(40) });
    expect(await deploy(run(), wrangler, o.io)).toBe(0);
    expect(o.files.get('wrangler.deploy.jsonc')).toContain(`"id": "${KV_ID.replace('0', 'a')}"`);
  });

  it('keeps the signing secret of a Worker deployed before the rename (PROFILE_SECRET), and says to rename it', async () => {
    const a = account(['ADMIN_TOKEN', 'PROFILE_SECRET']);
    const o = io();
    expect(await deploy(run(), a.wrangler, o.io)).toBe(0);
    // a new SIGNING_SECRET would take precedence and invalidate the profiles and notices signed before
    expect(a.uploaded()).toBeNull();
    expect(o.lines.join('\n')).toMatch(/signing secret is set as PROFILE_SECRET.*secret put SIGNING_SECRET/);
  });

  it('refuses a secret from the environment the Worker would refuse (short, or an example value), naming it', async () => {
    for (const [env, message] of [
      [{ ADMIN_TOKEN: 'change-me-too' }, /ADMIN_TOKEN is the example value/],
      [{ SIGNING_SECRET: 'short' }, /SIGNING_SECRET is shorter than 32 characters/],
      [{ PARTNER_TOKENS: `${'p'.repeat(40)}, tiny` }, /PARTNER_TOKENS entry 2 is shorter than 32 characters/],
    ] as const) {
      const a = account([]);
      const o = io(env);
      await expect(deploy(run(), a.wrangler, o.io)).rejects.toThrow(message);
      expect(a.calls.some((c) => c[0] === 'deploy')).toBe(false);
      for (const v of Object.values(env)) expect(o.lines.join('\n')).not.toContain(v);
    }
  });

  it('asks before generating secrets, and stops without them when nobody can answer', async () => {
    const a = account();
    const o = io();
    await expect(deploy(run({ generateSecrets: false }), a.wrangler, o.io)).rejects.toThrow(
      /missing secrets SIGNING_SECRET: set them in the environment .* or pass --generate-secrets/,
    );
    expect(a.calls.some((c) => c[0] === 'deploy')).toBe(false);
    expect(o.files.size).toBe(0);
  });

  it('says how to log in when wrangler is not', async () => {
    const o = io();
    await expect(deploy(run(), async () => ({ code: 1, stdout: '', stderr: 'not authenticated' }), o.io)).rejects.toThrow(
      /npx wrangler login/,
    );
  });

  it('refuses settings that would open the API to every site or loop the proxy into itself', () => {
    const flags = { 'site-origin': [] as string[], route: [] as string[], domain: [] as string[] };
    expect(() => settingsFrom(flags, null)).toThrow(/--site-origin is required/);
    expect(() => settingsFrom({ ...flags, 'site-origin': ['*'] }, null)).toThrow(/name the site/);
    expect(() => settingsFrom({ ...flags, 'site-origin': ['https://shop.example/path'] }, null)).toThrow(/must be an origin/);
    expect(() => settingsFrom({ ...flags, 'site-origin': ['https://shop.example'], route: ['shop.example/*'] }, null)).toThrow(/--zone/);
    expect(() =>
      settingsFrom({ ...flags, 'site-origin': ['https://shop.example'], domain: ['shop.example'], origin: 'https://shop.example' }, null),
    ).toThrow(/custom domain the Worker serves itself.*come back to the Worker.*https:\/\/origin\.shop\.example/);
    const previous = {
      siteOrigins: ['https://shop.example'],
      originUrl: 'https://origin.shop.example',
      routes: [],
      domains: ['shop.example'],
    };
    expect(settingsFrom(flags, previous)).toEqual({ ...previous, zone: undefined });
  });
});

function previousSettingsOf(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'attune-deploy-test-'));
  const file = join(dir, 'c.jsonc');
  writeFileSync(file, text);
  return previousSettings(file);
}

describe('npm run deploy -- --dry-run', () => {
  it('prints every wrangler command of a first deploy and the config, offline, and writes nothing', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'attune-deploy-')), 'wrangler.deploy.jsonc');
    const home = mkdtempSync(join(tmpdir(), 'attune-home-'));
    const r = spawnSync(
      process.execPath,
      ['scripts/deploy.ts', '--dry-run', '--site-origin', 'https://shop.example', '--domain', 'edge.shop.example', '--out', out],
      // no wrangler login here (an empty home folder): a dry run asks wrangler nothing
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, HOME: home, XDG_CONFIG_HOME: home, CLOUDFLARE_API_TOKEN: '' } },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const commands = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('  wrangler '))
      .map((l) => l.trim());
    expect(commands).toEqual([
      'wrangler whoami --json',
      'wrangler kv namespace list',
      'wrangler kv namespace create attune-models   (if missing)',
      'wrangler r2 bucket list',
      'wrangler r2 bucket create attune-log   (if missing)',
      'wrangler queues info attune-events-dlq',
      'wrangler queues create attune-events-dlq   (if missing)',
      'wrangler queues info attune-events',
      'wrangler queues create attune-events   (if missing)',
      'wrangler secret list --name attune --format json',
      `wrangler deploy -c ${out} --secrets-file <a private temporary file with SIGNING_SECRET, ADMIN_TOKEN>`,
    ]);
    expect(r.stdout).toContain('"ALLOWED_ORIGINS": "https://shop.example"');
    expect(r.stdout).toMatch(/"pattern": "edge\.shop\.example",\s+"custom_domain": true/);
    expect(r.stdout).toContain('EXCHANGE_KEYS is not set');
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});

describe('the production default', () => {
  it("wrangler.toml grants no browser origin: a deploy that names no site opens the API to none (npm run deploy sets the site's)", async () => {
    const { readTemplate } = await import('../../scripts/deploy-config.ts');
    expect((await readTemplate('wrangler.toml')).vars?.ALLOWED_ORIGINS).toBe('');
  }, 60_000);
});
