/**
 * A named site's view of the Worker's environment: the same bindings and settings, except that
 * its KV keys live under the site's prefix (core/store-keys.ts `siteDataPrefix`), its experiment
 * aggregators and model writers are Durable Objects of its own names, and its origin and allowed origins are its
 * own. The site middleware hands this env to every site route in place of the Worker's
 * (`c.env`), so models, page rules, segment rules and experiments are per site without any of
 * their code knowing sites exist; the default site gets the Worker's env itself, untouched.
 *
 * Built once per site per isolate (and per base env): a warm request allocates nothing here.
 */
import { DEFAULT_SITE } from '../../core/log-layout.ts';
import { siteDataPrefix } from '../../core/store-keys.ts';
import { kvOf } from '../shared/bindings.ts';
import { prefixedKv } from '../shared/kv-view.ts';
import { packText } from '../log/log-pack.ts';

/** `ns` with every name under `prefix`: a site's Durable Objects are not another site's of the same name. */
function prefixedNamespace<T extends Rpc.DurableObjectBranded | undefined>(
  ns: DurableObjectNamespace<T>,
  prefix: string,
): DurableObjectNamespace<T> {
  return {
    idFromName: (name: string) => ns.idFromName(prefix + name),
    idFromString: (id: string) => ns.idFromString(id),
    newUniqueId: (o?: DurableObjectNamespaceNewUniqueIdOptions) => ns.newUniqueId(o),
    get: (id: DurableObjectId, o?: DurableObjectNamespaceGetDurableObjectOptions) => ns.get(id, o),
    getByName: (name: string, o?: DurableObjectNamespaceGetDurableObjectOptions) => ns.get(ns.idFromName(prefix + name), o),
    jurisdiction: (j: DurableObjectJurisdiction) => prefixedNamespace(ns.jurisdiction(j), prefix),
  } as unknown as DurableObjectNamespace<T>;
}

/**
 * `queue` with `site` on every log record sent through it: decision records and events of a
 * named site carry it (core/decision-record.ts), and the log consumer files them under its
 * `site=` partition.
 */
function siteQueue(queue: Queue, site: string): Queue {
  const stamp = (body: unknown) => (body !== null && typeof body === 'object' ? { ...body, site } : body);
  // a pack (log/log-pack.ts) is re-written with the site in each record: once per flush, not per request
  const stampPack = (text: string): string => {
    const pack = JSON.parse(text) as { pack?: unknown; records?: unknown };
    if (pack.pack !== 1 || !Array.isArray(pack.records)) return text;
    return packText(pack.records.map((r) => JSON.stringify(stamp(r))));
  };
  return {
    send: (body: unknown, o?: QueueSendOptions) => queue.send(typeof body === 'string' ? stampPack(body) : stamp(body), o),
    sendBatch: (messages: Iterable<MessageSendRequest>, o?: QueueSendBatchOptions) =>
      queue.sendBatch(
        [...messages].map((m) => ({ ...m, body: stamp(m.body) })),
        o,
      ),
    metrics: () => (queue as unknown as { metrics(): unknown }).metrics(),
  } as unknown as Queue;
}

/** What a site's env differs in. */
export interface SiteVars {
  readonly id: string;
  readonly origin?: string | undefined;
  readonly allowedOrigins?: readonly string[] | undefined;
}

const views = new WeakMap<Env, Map<string, { vars: SiteVars; env: Env }>>();

/** The env site routes of `site` see (the Worker's own for the default site). */
export function siteEnv(env: Env, site: SiteVars): Env {
  if (site.id === DEFAULT_SITE && site.origin === undefined && site.allowedOrigins === undefined) return env;
  let byId = views.get(env);
  if (byId === undefined) views.set(env, (byId = new Map()));
  const held = byId.get(site.id);
  // a site document is replaced whole when it changes, so identity says whether it did
  if (held !== undefined && (held.vars === site || sameVars(held.vars, site))) return held.env;
  const prefix = siteDataPrefix(site.id);
  const view = {
    ...env,
    KV: prefixedKv(kvOf(env), prefix),
    EXPERIMENTS: prefix === '' ? env.EXPERIMENTS : prefixedNamespace(env.EXPERIMENTS, prefix),
    MODEL_WRITER: prefix === '' ? env.MODEL_WRITER : prefixedNamespace(env.MODEL_WRITER, prefix),
    ...(prefix === '' ? {} : { EVENTS: siteQueue(env.EVENTS, site.id) }),
    ...(site.origin !== undefined ? { ORIGIN_URL: site.origin } : {}),
    ...(site.allowedOrigins !== undefined ? { ALLOWED_ORIGINS: site.allowedOrigins.join(',') } : {}),
    ATTUNE_SITE: site.id,
  } as unknown as Env;
  byId.set(site.id, { vars: site, env: view });
  return view;
}

function sameVars(a: SiteVars, b: SiteVars): boolean {
  return (
    a.origin === b.origin &&
    (a.allowedOrigins ?? []).join() === (b.allowedOrigins ?? []).join() &&
    (a.allowedOrigins === undefined) === (b.allowedOrigins === undefined)
  );
}

/** The site an env belongs to (`default` for the Worker's own). */
export function siteOfEnv(env: object): string {
  return (env as { ATTUNE_SITE?: string }).ATTUNE_SITE ?? DEFAULT_SITE;
}
