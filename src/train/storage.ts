/**
 * ModelStorage for Node tools: wrangler's local KV (the same persisted state `wrangler dev`
 * reads, through getPlatformProxy) or a real namespace (through `wrangler kv key` commands,
 * using the account wrangler is logged in to, and the namespace id `npm run deploy` wrote into
 * wrangler.deploy.jsonc; wrangler.toml's ids are local placeholders).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { publishModel, type ModelStorage } from '../core/model-registry.ts';
import { CliError } from './cli.ts';
import { localPlatform } from './platform-proxy.ts';

const run = promisify(execFile);
/** The Worker's KV binding (wrangler.toml), which `wrangler kv key … --binding` and getPlatformProxy name. */
export const BINDING = 'KV';
/** The config `npm run deploy` generates (scripts/deploy-config.ts): the real resource ids. */
export const DEPLOY_CONFIG = 'wrangler.deploy.jsonc';

export interface OpenStorage {
  readonly storage: ModelStorage;
  /** the raw KV for configs (segments, …) */
  readonly putJson: (key: string, value: unknown) => Promise<void>;
  /** every key name under `prefix` (the local and remote stores have it; tests' stand-ins need not) */
  readonly list?: (prefix: string) => Promise<string[]>;
  readonly close: () => Promise<void>;
}

export { platformPersist } from './platform-proxy.ts';

export async function localStorage(persistTo?: string): Promise<OpenStorage> {
  const proxy = await localPlatform<Record<typeof BINDING, KVLike>>(persistTo);
  const kv = proxy.env[BINDING];
  return {
    storage: {
      getBytes: (key) => kv.get(key, 'arrayBuffer'),
      getText: (key) => kv.get(key, 'text'),
      put: (key, value) => kv.put(key, value),
    },
    putJson: (key, value) => kv.put(key, JSON.stringify(value)),
    list: async (prefix) => {
      const names: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await kv.list({ prefix, ...(cursor ? { cursor } : {}) });
        names.push(...page.keys.map((k) => k.name));
        cursor = page.list_complete ? undefined : page.cursor;
      } while (cursor);
      return names;
    },
    close: () => proxy.dispose(),
  };
}

interface KVLike {
  get(key: string, type: 'arrayBuffer'): Promise<ArrayBuffer | null>;
  get(key: string, type: 'text'): Promise<string | null>;
  put(key: string, value: string | Uint8Array): Promise<void>;
  list(opts: { prefix: string; cursor?: string }): Promise<{ keys: { name: string }[]; list_complete: boolean; cursor?: string }>;
}

async function wrangler(args: string[], encoding: 'utf8' | 'buffer'): Promise<string | Buffer | null> {
  const config = existsSync(DEPLOY_CONFIG) ? ['-c', DEPLOY_CONFIG] : [];
  try {
    const { stdout } = await run('npx', ['wrangler', 'kv', 'key', ...args, '--binding', BINDING, '--remote', ...config], {
      encoding,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const msg = String((err as { stderr?: unknown }).stderr ?? err);
    if (/not found|404/i.test(msg)) return null;
    const hint = config.length === 0 ? ` (no ${DEPLOY_CONFIG} here: \`npm run deploy\` creates the namespace and writes its id)` : '';
    throw new CliError(`wrangler kv failed${hint}: ${msg.slice(0, 500)}`);
  }
}

export function remoteStorage(): OpenStorage {
  const put = async (key: string, value: Uint8Array | string) => {
    const dir = await mkdtemp(join(tmpdir(), 'attune-'));
    try {
      const file = join(dir, 'value');
      await writeFile(file, value);
      await wrangler(['put', key, '--path', file], 'utf8');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  return {
    storage: {
      getBytes: async (key) => {
        const out = (await wrangler(['get', key], 'buffer')) as Buffer | null;
        return out === null ? null : (out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer);
      },
      getText: async (key) => (await wrangler(['get', key, '--text'], 'utf8')) as string | null,
      put,
    },
    putJson: (key, value) => put(key, JSON.stringify(value)),
    list: async (prefix) => {
      const config = existsSync(DEPLOY_CONFIG) ? ['-c', DEPLOY_CONFIG] : [];
      const { stdout } = await run(
        'npx',
        ['wrangler', 'kv', 'key', 'list', '--prefix', prefix, '--binding', BINDING, '--remote', ...config],
        {
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      return (JSON.parse(stdout) as { name: string }[]).map((k) => k.name);
    },
    close: async () => {},
  };
}

/** Publishes one blob locally (wrangler's KV state) or to the real namespace, and says where. */
export async function publishBlob(blob: Uint8Array, opts: { remote?: boolean; persist?: string | undefined }): Promise<string> {
  const store = opts.remote ? remoteStorage() : await localStorage(opts.persist);
  try {
    const r = await publishModel(store.storage, blob);
    if (!r.ok) throw new Error(`publish failed: ${r.reason}`);
    return `published ${r.name}@${r.version}${opts.remote ? ' (remote)' : ' (local KV)'}`;
  } finally {
    await store.close();
  }
}
