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
import { MANIFEST_PREFIX } from '../../core/store-keys.ts';
import { baseText, DEFAULT_GAP_MS, DEFAULT_STALE_MS, gapWait, msVar, type Written } from '../shared/kv-write-window.ts';

export type WriterResult = PublishResult | { readonly ok: false; readonly reason: 'storeUnavailable'; readonly detail: string };

export class ModelWriter extends DurableObject<Env> {
  /** the manifest this object last put */
  private written: Written | null = null;
  /** when this object last tried to put the manifest (ms): a refused put waits out the gap too */
  private attempted = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.written = (await ctx.storage.get<Written>('written')) ?? null;
    });
  }

  publish(blob: Uint8Array, opts: { activate: boolean; allowKindChange: boolean }): Promise<WriterResult> {
    return this.serial((s) => publishModel(s, blob, opts));
  }

  activate(name: string, version: string, allowKindChange: boolean): Promise<WriterResult> {
    return this.serial((s) => activateModel(s, name, version, { allowKindChange }));
  }

  rollback(name: string): Promise<WriterResult> {
    return this.serial((s) => rollbackModel(s, name));
  }

  /** Runs `op` after every call before it has finished; a KV failure is an answer, not a throw. */
  private serial(op: (storage: ModelStorage) => Promise<PublishResult>): Promise<WriterResult> {
    const run = this.tail
      .then(() => op(this.storage()))
      .catch((err: unknown): WriterResult => {
        console.error(JSON.stringify({ msg: 'model write failed', error: String(err) }));
        return { ok: false, reason: 'storeUnavailable', detail: String(err) };
      });
    this.tail = run;
    return run;
  }

  private storage(): ModelStorage {
    const kv = this.env.MODELS;
    const isManifest = (key: string) => key.startsWith(MANIFEST_PREFIX);
    return {
      getBytes: (key) => kv.get(key, 'arrayBuffer'),
      getText: async (key) => {
        const stored = await kv.get(key, 'text');
        return isManifest(key) ? baseText(stored, this.written, Date.now(), msVar(this.env.KV_STALE_MS, DEFAULT_STALE_MS)) : stored;
      },
      put: async (key, value) => {
        if (!isManifest(key) || typeof value !== 'string') return kv.put(key, value);
        const wait = gapWait(msVar(this.env.KV_WRITE_GAP_MS, DEFAULT_GAP_MS), Math.max(this.attempted, this.written?.at ?? 0), Date.now());
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const at = Date.now();
        this.attempted = at;
        await kv.put(key, value);
        this.written = { last: value, at };
        try {
          await this.ctx.storage.put('written', this.written);
        } catch (err) {
          // the manifest is saved; only a restart within the stale window would forget it was ours
          console.error(JSON.stringify({ msg: 'model writer could not note its write', error: String(err) }));
        }
      },
    };
  }
}
