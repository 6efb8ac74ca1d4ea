/**
 * `npm run recs:train -- --help` prints USAGE below.
 *
 * Streams baskets (a retail or interactions CSV, or our NDJSON outcome log of page, add-to-cart
 * and purchase events, plain or .gz), counts co-occurrences, keeps the top-k neighbours per
 * item, compiles the `itemknn` blob and its `<name>-popular` companion, writes both to `--out`
 * (default models/compiled) and, with `--publish`, publishes them through the atomic path
 * (write, read back, verify, flip the manifest) to local KV or, with `--remote`, the real one.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { publishModel, type ModelStorage, type PublishResult } from '../../core/model-registry.ts';
import { localStorage, remoteStorage } from '../storage.ts';
import { readCatalogCsv, readInteractionsCsv, readRetailCsv, type BasketSet } from './baskets.ts';
import { readOutcomeLog } from './log-baskets.ts';
import { build, compile } from './build.ts';
import { checkNeighbourOptions, type Normalization } from './cooccurrence.ts';
import { evaluate, formatReport, QUANTIZATION_BUDGET, servedLoss } from './evaluate.ts';

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

const USAGE = `npm run recs:train -- (--csv file [--format retail|interactions] | --log file …) [options]

  --csv file            the UCI Online Retail export, or an interactions CSV with a header naming
                        basket (or session) and item, and optionally time (ISO date, or Unix
                        seconds or ms), user, country, category, price, in_stock, tags (;-separated)
  --log file|dir …      our outcome log (NDJSON, plain or .gz, and/or Parquet from log:compact):
                        page, add_to_cart, purchase and click events with items, one basket per
                        visitor session
  --site default        the log's site= partition (logs without one are site default)
  --catalog file        item metadata CSV (item, and any of category, price, in_stock, tags): the
                        filters' data for a source without it (the outcome log)
  --name recs           model name (its companion is <name>-popular); --version (default t<time>)
  --k 50 --norm cosine|lift|jaccard --alpha 0.5 --shrink 2 --min-count 1
  --half-life days      weight baskets by age (0 or unset: no decay)
  --out models/compiled where the blobs are written
  --eval                retail CSV only: before publishing, evaluate the same settings on the
                        protocol's split (first 80 % of invoices by time) and stop with exit 1
                        if the served model loses more than 1 % against full precision
  --publish [--remote] [--persist dir]   publish through the atomic path (local KV by default)`;

async function readHeader(path: string): Promise<string> {
  const { createReadStream } = await import('node:fs');
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: createReadStream(path) });
  for await (const line of rl) {
    rl.close();
    return line;
  }
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
      site: { type: 'string', default: 'default' },
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
      catalog: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const norm = values.norm as Normalization;
  const k = Number(values.k);
  const version = values.version ?? defaultVersion();
  if (!NAME.test(values.name!) || !NAME.test(version)) throw new Error('--name and --version: lower-case letters, digits, . _ -');
  if (!['cosine', 'lift', 'jaccard'].includes(norm)) throw new Error('--norm must be cosine, lift or jaccard');
  const given = values['half-life'] === undefined ? undefined : Number(values['half-life']);
  checkNeighbourOptions({
    k,
    alpha: Number(values.alpha),
    shrink: Number(values.shrink),
    minCount: Number(values['min-count']),
    halfLifeDays: given,
  });
  const halfLife = given === 0 ? undefined : given; // 0: no decay, as recs:eval reads it
  const opts = {
    k,
    norm,
    alpha: Number(values.alpha),
    shrink: Number(values.shrink),
    minCount: Number(values['min-count']),
    halfLifeDays: halfLife,
  };
  if (!values.csv === !values.log) throw new Error('give exactly one of --csv or --log (--help for usage)');
  const format = values.csv
    ? (values.format ?? ((await readHeader(values.csv)).startsWith('InvoiceNo,') ? 'retail' : 'interactions'))
    : 'log';
  if (values.eval && format !== 'retail')
    throw new Error('--eval needs the retail --csv (the UCI Online Retail export): its protocol splits invoices by time');

  const t0 = performance.now();
  let data: BasketSet;
  if (values.csv) {
    data = format === 'retail' ? await readRetailCsv(values.csv) : await readInteractionsCsv(values.csv);
  } else {
    data = await readOutcomeLog(values.log!, { site: values.site });
  }
  if (values.catalog) console.log(`catalog: ${await readCatalogCsv(values.catalog, data.items)} items from ${values.catalog}`);
  // Nothing usable (an unreadable or empty log): say so, rather than replace a good model with an empty one.
  if (data.baskets.length === 0)
    throw new Error(`no baskets to learn from: ${JSON.stringify(data.rows)} (check --log/--csv and the date range)`);
  const built = build(data.baskets, data.items, opts);
  const blobs = compile(built, values.name!, version);
  const withNeighbours = built.rows.filter((r) => r.length > 0).length;
  console.log(`read ${JSON.stringify(data.rows)}`);
  console.log(
    `baskets ${built.counts.baskets}, items ${built.counts.ids.length} (${withNeighbours} with neighbours), pairs ${built.counts.pairs.size}, popularity segments ${Object.keys(built.popularity).length}`,
  );
  console.log(
    `model ${values.name}@${version}: ${blobs.model.byteLength} bytes; companion ${values.name}-popular@${version}: ${blobs.companion.byteLength} bytes; ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  await mkdir(values.out!, { recursive: true });
  await writeFile(join(values.out!, `${values.name}@${version}.bin`), blobs.model);
  await writeFile(join(values.out!, `${values.name}-popular@${version}.bin`), blobs.companion);

  if (values.eval) {
    // The protocol's model (the same settings on the first 80 % of invoices by time), not the one
    // just built from all of them: that one has no held-out data left to measure it on.
    const report = await evaluate({
      csv: values.csv!,
      trainShare: 0.8,
      seed: 1,
      k,
      norm,
      alpha: opts.alpha,
      shrink: opts.shrink,
      ...(halfLife ? { halfLifeDays: halfLife } : {}),
    });
    console.log(`\n${formatReport(report)}`);
    const loss = servedLoss(report);
    if (loss > QUANTIZATION_BUDGET) {
      throw new Error(
        `the served model loses ${(loss * 100).toFixed(2)}% against full precision (budget ${QUANTIZATION_BUDGET * 100}%)${values.publish ? ': not published' : ''}`,
      );
    }
  }

  if (values.publish) {
    const store = values.remote ? remoteStorage() : await localStorage(values.persist);
    try {
      for (const r of await publishRecs(store.storage, blobs)) {
        if (!r.ok) throw new Error(`publish failed: ${r.reason}${r.detail ? ` (${r.detail})` : ''}`);
        console.log(`${r.unchanged ? 'same   ' : 'active '} ${r.name}@${r.version}`);
      }
    } finally {
      await store.close();
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(`recs:train: ${(err as Error).message}`);
    process.exit(1);
  });
}
