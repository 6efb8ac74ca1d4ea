/**
 * `npm run recs:train -- (--csv file [--format retail|interactions] | --log file …)
 *   [--name recs] [--version v…] [--k 50] [--norm cosine|lift|jaccard] [--alpha 0.5] [--shrink 2]
 *   [--half-life days] [--min-count 1] [--out dir] [--publish [--remote] [--persist dir]] [--eval]`
 *
 * Streams baskets (a retail or interactions CSV, or our NDJSON outcome log of page, add-to-cart
 * and purchase events, plain or .gz), counts co-occurrences, keeps the top-k neighbours per
 * item, compiles the `itemknn` blob and its `<name>-popular` companion, writes both to `--out`
 * (default models/compiled) and, with `--publish`, publishes them through the atomic path
 * (write, read back, verify, flip the manifest) to local KV or, with `--remote`, the real one.
 * `--eval` (retail CSV only) also prints the offline evaluation table (see evaluate.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { publishModel, type ModelStorage, type PublishResult } from '../../core/model-registry.ts';
import { localStorage, remoteStorage } from '../storage.ts';
import { readInteractionsCsv, readOutcomeLog, readRetailCsv, type BasketSet } from './baskets.ts';
import { build, compile } from './build.ts';
import { checkNeighbourOptions, type Normalization } from './cooccurrence.ts';
import { evaluate, formatReport } from './evaluate.ts';

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

async function readHeader(path: string): Promise<string> {
  const { createReadStream } = await import('node:fs');
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: createReadStream(path) });
  for await (const line of rl) { rl.close(); return line; }
  return '';
}

export function defaultVersion(now = new Date()): string {
  return `t${now.toISOString().replace(/[-:T]/g, '').slice(0, 14)}`;
}

/**
 * Publishes the companion, then the model, through the atomic path: by the time the model is
 * active its fallback exists. Stops at the first failure.
 */
export async function publishRecs(storage: ModelStorage, blobs: { model: Uint8Array; companion: Uint8Array }): Promise<PublishResult[]> {
  const results: PublishResult[] = [];
  for (const blob of [blobs.companion, blobs.model]) {
    const r = await publishModel(storage, blob);
    results.push(r);
    if (!r.ok) break;
  }
  return results;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      csv: { type: 'string' },
      format: { type: 'string' },
      log: { type: 'string', multiple: true },
      name: { type: 'string', default: 'recs' },
      version: { type: 'string' },
      k: { type: 'string', default: '50' },
      norm: { type: 'string', default: 'cosine' },
      alpha: { type: 'string', default: '0.5' },
      shrink: { type: 'string', default: '2' },
      'half-life': { type: 'string' },
      'min-count': { type: 'string', default: '1' },
      out: { type: 'string', default: 'models/compiled' },
      publish: { type: 'boolean', default: false },
      remote: { type: 'boolean', default: false },
      persist: { type: 'string' },
      eval: { type: 'boolean', default: false },
    },
  });
  const norm = values.norm as Normalization;
  const k = Number(values.k);
  const version = values.version ?? defaultVersion();
  if (!NAME.test(values.name!) || !NAME.test(version)) throw new Error('--name and --version: lower-case letters, digits, . _ -');
  if (!['cosine', 'lift', 'jaccard'].includes(norm)) throw new Error('--norm must be cosine, lift or jaccard');
  const given = values['half-life'] === undefined ? undefined : Number(values['half-life']);
  checkNeighbourOptions({ k, alpha: Number(values.alpha), shrink: Number(values.shrink), minCount: Number(values['min-count']), halfLifeDays: given });
  const halfLife = given === 0 ? undefined : given; // 0: no decay, as recs:eval reads it
  const opts = { k, norm, alpha: Number(values.alpha), shrink: Number(values.shrink), minCount: Number(values['min-count']), halfLifeDays: halfLife };
  if (!values.csv === !values.log) throw new Error('give exactly one of --csv or --log');

  const t0 = performance.now();
  let data: BasketSet;
  if (values.csv) {
    const format = values.format ?? ((await readHeader(values.csv)).startsWith('InvoiceNo,') ? 'retail' : 'interactions');
    data = format === 'retail' ? await readRetailCsv(values.csv) : await readInteractionsCsv(values.csv);
  } else {
    data = await readOutcomeLog(values.log!);
  }
  // Nothing usable (an unreadable or empty log): say so, rather than replace a good model with an empty one.
  if (data.baskets.length === 0) throw new Error(`no baskets to learn from: ${JSON.stringify(data.rows)} (check --log/--csv and the date range)`);
  const built = build(data.baskets, data.items, opts);
  const blobs = compile(built, values.name!, version);
  const withNeighbours = built.rows.filter((r) => r.length > 0).length;
  console.log(`read ${JSON.stringify(data.rows)}`);
  console.log(`baskets ${built.counts.baskets}, items ${built.counts.ids.length} (${withNeighbours} with neighbours), pairs ${built.counts.pairs.size}, popularity segments ${Object.keys(built.popularity).length}`);
  console.log(`model ${values.name}@${version}: ${blobs.model.byteLength} bytes; companion ${values.name}-popular@${version}: ${blobs.companion.byteLength} bytes; ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  await mkdir(values.out!, { recursive: true });
  await writeFile(join(values.out!, `${values.name}@${version}.bin`), blobs.model);
  await writeFile(join(values.out!, `${values.name}-popular@${version}.bin`), blobs.companion);

  if (values.publish) {
    const store = values.remote ? remoteStorage() : await localStorage(values.persist);
    try {
      for (const r of await publishRecs(store.storage, blobs)) {
        if (!r.ok) throw new Error(`publish failed: ${r.reason}`);
        console.log(`${r.unchanged ? 'same   ' : 'active '} ${r.name}@${r.version}`);
      }
    } finally {
      await store.close();
    }
  }

  if (values.eval) {
    if (!values.csv) throw new Error('--eval needs the retail --csv');
    const report = await evaluate({ csv: values.csv, trainShare: 0.8, seed: 1, k, norm, alpha: opts.alpha, shrink: opts.shrink, ...(halfLife ? { halfLifeDays: halfLife } : {}) });
    console.log(`\n${formatReport(report)}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(`recs:train: ${(err as Error).message}`);
    process.exit(1);
  });
}
