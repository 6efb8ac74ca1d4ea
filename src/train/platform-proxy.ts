/**
 * wrangler's local KV and R2 (the state `wrangler dev` persists) for the Node tools, through
 * getPlatformProxy given a config that holds only those bindings. Given wrangler.toml itself, it
 * would also bind the Worker's Durable Objects to a placeholder script that exports none of
 * them, and wrangler and workerd would warn on every run that they "will not work in local
 * development" and that "no such Durable Object class is exported": false for `wrangler dev`,
 * irrelevant to tools that only read KV and R2. The KV namespace ids and bucket names are
 * wrangler.toml's, so the persisted data is the same.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface LocalPlatform<Env> {
  readonly env: Env;
  readonly dispose: () => Promise<void>;
}

/**
 * getPlatformProxy's `persist` for a `--persist DIR` flag: DIR means what it means to
 * `wrangler dev --persist-to DIR` (which keeps its state in DIR/v3), so a tool and a dev server
 * given the same folder see the same KV and R2. Without a flag: `.wrangler/state`, as both default.
 * Absolute, since wrangler resolves a relative one against the config file's folder.
 */
export function platformPersist(persistTo: string | undefined): { path: string } {
  return { path: resolve(persistTo ? join(persistTo, 'v3') : join('.wrangler', 'state', 'v3')) };
}

/** The Worker's KV namespaces and R2 buckets, locally, as `wrangler dev` (run here) persists them. */
export async function localPlatform<Env>(persistTo: string | undefined, configPath = 'wrangler.toml'): Promise<LocalPlatform<Env>> {
  const { getPlatformProxy, unstable_readConfig } = await import('wrangler');
  const full = unstable_readConfig({ config: configPath });
  const dir = await mkdtemp(join(tmpdir(), 'attune-platform-'));
  const config = join(dir, 'wrangler.json');
  await writeFile(
    config,
    JSON.stringify({
      name: full.name,
      compatibility_date: full.compatibility_date,
      kv_namespaces: full.kv_namespaces.map(({ binding, id }: { binding: string; id?: string }) => ({ binding, id })),
      r2_buckets: full.r2_buckets.map(({ binding, bucket_name }: { binding: string; bucket_name?: string }) => ({ binding, bucket_name })),
    }),
  );
  try {
    const proxy = await getPlatformProxy<Env & Record<string, unknown>>({
      configPath: config,
      persist: platformPersist(persistTo),
      remoteBindings: false,
    });
    return {
      env: proxy.env,
      dispose: async () => {
        await proxy.dispose();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
