/**
 * `npm run sites:migrate -- --site NAME --host H [--host H…]`: turns a single-site deployment
 * into one with sites (docs/sites.md). Copies the default site's models (manifests and blobs),
 * page rules and segment rules under the named site's keys, writes the site (its hosts, and an
 * origin or allowed origins when given) and, when the deployment has no sites yet, the default
 * site with the hosts given by --default-host (none: the default site then serves no host).
 * Copies, never moves: the default site's keys stay as they were. Experiments are not copied,
 * since their live counts are in Durable Objects: recreate them on the site's host. With
 * `--site default` only the default site's document is written (its keys are already today's).
 * Local KV by default (what `wrangler dev` serves), or --remote.
 */
import { DEFAULT_SITE } from '../src/core/log-layout.ts';
import { SNAPSHOT_PREFIX } from '../src/core/model-registry.ts';
import {
  CONFIG_KEYS,
  EXPERIMENT_PREFIX,
  MANIFEST_PREFIX,
  MODEL_PREFIX,
  siteDataPrefix,
  siteHostKey,
  siteKey,
} from '../src/core/store-keys.ts';
import { CliError, cliMain, UsageError, type CliSpec } from '../src/train/cli.ts';
import { localStorage, remoteStorage } from '../src/train/storage.ts';
import { NewSite, parseSite, type Site } from '../src/worker/sites/site-schema.ts';

export const SPEC = {
  name: 'sites:migrate',
  usage: 'npm run sites:migrate -- --site NAME --host HOST [--host HOST…] [--origin URL] [--default-host HOST…] [--remote | --persist DIR]',
  summary:
    "Copies a single-site deployment's models, page rules and segment rules into a named site and writes the site (and, when there are no sites yet, the default site), in local KV or --remote.",
  options: {
    site: { type: 'string', arg: 'NAME', required: true, help: 'the site to create or update (lower-case letters, digits, - and _)' },
    host: { type: 'string', arg: 'HOST', multiple: true, help: 'a host name the site answers on' },
    origin: { type: 'string', arg: 'URL', help: "the site's origin for proxy mode (default: ORIGIN_URL's, for the default site only)" },
    'allowed-origin': {
      type: 'string',
      arg: 'ORIGIN',
      multiple: true,
      help: 'a browser origin allowed to call /v1 (default: ALLOWED_ORIGINS)',
    },
    'default-host': { type: 'string', arg: 'HOST', multiple: true, help: 'host names the default site keeps, when this creates it' },
    empty: { type: 'boolean', help: "create the site without copying the default site's config" },
    remote: { type: 'boolean', help: 'the real namespace (wrangler login), not local KV' },
    persist: { type: 'string', arg: 'DIR', help: 'the local state folder, as wrangler dev --persist-to (default .wrangler/state)' },
  },
} as const satisfies CliSpec;

/** The keys of the default site a migration copies: models (not experiment snapshots) and the site's rules. */
export function copied(names: readonly string[]): string[] {
  return names.filter((n) => {
    if (n === CONFIG_KEYS.pageRules || n === CONFIG_KEYS.segments) return true;
    const name = n.startsWith(MANIFEST_PREFIX)
      ? n.slice(MANIFEST_PREFIX.length)
      : n.startsWith(MODEL_PREFIX)
        ? n.slice(MODEL_PREFIX.length)
        : null;
    return name !== null && !name.startsWith(SNAPSHOT_PREFIX);
  });
}

await cliMain(import.meta.url, SPEC, async ({ values }) => {
  if (values.host.length === 0) throw new UsageError('--host: name at least one host name the site answers on');
  const now = Date.now();
  const input = NewSite.safeParse({
    id: values.site,
    hostnames: values.host,
    ...(values.origin ? { origin: values.origin } : {}),
    ...(values['allowed-origin'].length > 0 ? { allowedOrigins: values['allowed-origin'] } : {}),
  });
  if (!input.success) {
    const issue = input.error.issues[0]!;
    const option = { id: 'site', hostnames: 'host', allowedOrigins: 'allowed-origin' }[String(issue.path[0])] ?? String(issue.path[0]);
    throw new UsageError(`--${option}: ${issue.message}`);
  }
  const store = values.remote ? remoteStorage() : await localStorage(values.persist);
  const kv = store.storage;
  const list = store.list ?? (() => Promise.reject(new CliError('this store cannot list keys')));
  const readSite = async (id: string) => parseSite(JSON.parse((await kv.getText(siteKey(id))) ?? 'null'));
  const writeSite = async (site: Site, before: Site | null) => {
    for (const h of site.hostnames) {
      const owner = JSON.parse((await kv.getText(siteHostKey(h))) ?? 'null') as string | null;
      if (owner !== null && owner !== site.id) throw new CliError(`host ${h} belongs to site ${owner}`);
    }
    await store.putJson(siteKey(site.id), site);
    for (const h of site.hostnames) await store.putJson(siteHostKey(h), site.id);
    const gone = (before?.hostnames ?? []).filter((h) => !site.hostnames.includes(h));
    if (gone.length > 0) console.warn(`hosts no longer ${site.id}'s: ${gone.join(', ')} (delete their site-host/ keys)`);
    console.log(`site    ${site.id}: ${site.hostnames.join(', ') || '(no hosts)'}`);
  };
  try {
    const id = input.data.id;
    if (id !== DEFAULT_SITE && (await readSite(DEFAULT_SITE)) === null)
      await writeSite({ id: DEFAULT_SITE, hostnames: values['default-host'], tokens: [], createdAt: now, updatedAt: now }, null);
    if (id !== DEFAULT_SITE && !values.empty) {
      const names = copied([...(await list(MANIFEST_PREFIX)), ...(await list(MODEL_PREFIX)), CONFIG_KEYS.pageRules, CONFIG_KEYS.segments]);
      let n = 0;
      for (const name of names) {
        const bytes = await kv.getBytes(name);
        if (bytes === null) continue;
        await kv.put(siteDataPrefix(id) + name, new Uint8Array(bytes));
        n++;
      }
      console.log(`copied  ${n} keys (models, page rules, segment rules) to ${siteDataPrefix(id)}`);
      const experiments = await list(EXPERIMENT_PREFIX);
      if (experiments.length > 0)
        console.log(
          `not copied: ${experiments.length} experiments (their live counts are in Durable Objects); recreate them on the site's host`,
        );
    }
    const before = await readSite(id);
    await writeSite({ ...input.data, tokens: before?.tokens ?? [], createdAt: before?.createdAt ?? now, updatedAt: now }, before);
  } finally {
    await store.close();
  }
  return 0;
});
