/**
 * ModelWriter: the one writer of a model's keys, a Durable Object per model name. Publish,
 * activate and rollback are read-modify-writes of the manifest, and KV has no compare-and-swap:
 * two admin calls in different locations could each read the manifest and write their own,
 * and one activation would be lost from the history (or a rollback would undo a publish). Two
 * publishes of one version with different bytes could each find the key empty and each write
 * it, so the "immutable" blob would be whichever landed last. Here they run one at a time.
 *
 * KV stays the source of truth: a manifest written by hand or by the CLI is what the next call
 * starts from, except within KV_STALE_MS of this object's own manifest write (`baseText`), and
 * manifest writes are at least KV_WRITE_GAP_MS apart (KV takes one write a second to a key).
 * The CLI (`npm run models:publish`) writes KV directly; docs/operations.md says not to run it
 * against a model while the admin API writes the same one.
 */
import { DurableObject } from 'cloudflare:workers';
import { activateModel, publishModel, rollbackModel, type ModelStorage, type PublishResult } from '../../core/model-registry.ts';
import { DEFAULT_SITE } from '../../core/log-layout.ts';
import { MANIFEST_PREFIX, siteDataPrefix } from '../../core/store-keys.ts';
import { prefixedKv } from '../shared/kv-view.ts';
import { log } from '../shared/log.ts';
import { groupQueue, KeyWriteWindow } from '../shared/single-writer.ts';
import { kvOf } from '../shared/bindings.ts';

export type WriterResult = PublishResult | { readonly ok: false; readonly reason: 'storeUnavailable'; readonly detail: string };

type Op = (storage: ModelStorage) => Promise<PublishResult>;

export class ModelWriter extends DurableObject<Env> {
  /** the model's manifest key: the one key whose writes are spaced and remembered */
  private readonly manifest: KeyWriteWindow;
  /** each call after every call before it has finished */
  private readonly serial: (op: Op, site: string) => Promise<WriterResult>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.manifest = new KeyWriteWindow(ctx, env, 'model writer');
    const serial = groupQueue<[Op, string], WriterResult>(async (group) => {
      const answers: WriterResult[] = [];
      for (const [op, site] of group) answers.push(await this.run(op, site));
      return answers;
    });
    this.serial = (op, site) => serial([op, site]);
  }

  // `site`: whose keys the model's are (core/store-keys.ts siteDataPrefix); each site's models
  // have writers of their own (sites/site-env.ts), so one writer only ever sees one site
  publish(blob: Uint8Array, opts: { activate: boolean; allowKindChange: boolean }, site = DEFAULT_SITE): Promise<WriterResult> {
    return this.serial((s) => publishModel(s, blob, opts), site);
  }

  activate(name: string, version: string, allowKindChange: boolean, site = DEFAULT_SITE): Promise<WriterResult> {
    return this.serial((s) => activateModel(s, name, version, { allowKindChange }), site);
  }

  rollback(name: string, site = DEFAULT_SITE): Promise<WriterResult> {
    return this.serial((s) => rollbackModel(s, name), site);
  }

  /** One call; a KV failure is an answer, not a throw. */
  private async run(op: Op, site: string): Promise<WriterResult> {
    try {
      return await op(this.storage(site));
    } catch (err) {
      log.error('model write failed', { error: String(err) });
      return { ok: false, reason: 'storeUnavailable', detail: String(err) };
    }
  }

  private storage(site: string): ModelStorage {
    const kv = prefixedKv(kvOf(this.env), siteDataPrefix(site));
    const isManifest = (key: string) => key.startsWith(MANIFEST_PREFIX);
    return {
      getBytes: (key) => kv.get(key, 'arrayBuffer'),
      getText: async (key) => {
        const stored = await kv.get(key, 'text');
        return isManifest(key) ? this.manifest.base(stored) : stored;
      },
      put: (key, value) =>
        !isManifest(key) || typeof value !== 'string' ? kv.put(key, value) : this.manifest.put(value, (text) => kv.put(key, text)),
    };
  }
}
