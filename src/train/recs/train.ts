/**
 * `npm run recs:train -- --help` prints its usage (SPEC below).
 *
 * Streams baskets (a retail or interactions CSV, or our NDJSON outcome log of page, add-to-cart
 * and purchase events, plain or .gz), counts co-occurrences, keeps the top-k neighbours per
 * item, compiles the `itemknn` blob and its `<name>-popular` companion, writes both to `--out`
 * (default models/compiled) and, with `--publish`, publishes them through the atomic path
 * (write, read back, verify, flip the manifest) to local KV or, with `--remote`, the real one.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_RECS_MODEL, popularCompanion } from '../../core/recs/itemknn-model.ts';
import { publishModel, type ModelStorage, type PublishResult } from '../../core/model-registry.ts';
import { CliError, type CliSpec, cliMain, type ParsedCli, UsageError } from '../cli.ts';
import { localStorage, remoteStorage } from '../storage.ts';
import { readCatalogCsv, readInteractionsCsv, readRetailCsv, type BasketSet } from './baskets.ts';
import { readOutcomeLog } from './log-baskets.ts';
import { build, compile } from './build.ts';
import { BASKET_WEIGHTS, checkNeighbourOptions, DEFAULT_BASKET_WEIGHT, type BasketWeight, type Normalization } from './cooccurrence.ts';
import { evaluate, formatReport, QUANTIZATION_BUDGET, servedLoss } from './evaluate.ts';
import { DEFAULT_VALID_DAYS } from './next-basket.ts';

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const SPEC = {
  name: 'recs:train',
  usage: 'npm run recs:train -- (--csv FILE [--format retail|interactions] | --log FILE …) [options]',
  summary:
    "Builds the item-item recommender (and its <name>-popular companion) from baskets: the UCI Online Retail export, an interactions CSV, or attune's outcome log; writes both blobs and, with --publish, publishes them through the atomic path.",
  options: {
    csv: {
      type: 'string',
      arg: 'FILE',
      help: 'the UCI Online Retail export, or an interactions CSV with a header naming basket (or session) and item, and optionally time (ISO date, or Unix seconds or ms), user, country, category, price, in_stock, tags (;-separated)',
    },
    format: { type: 'string', choices: ['retail', 'interactions'], help: "the CSV's kind (default: read from its header)" },
    log: {
      type: 'string',
      arg: 'FILE',
      multiple: true,
      help: 'our outcome log (NDJSON, plain or .gz, and/or Parquet from log:compact): page, add_to_cart, purchase and click events with items, one basket per visitor session',
    },
    site: { type: 'string', arg: 'NAME', default: 'default', help: "the log's site= partition (logs without one are site default)" },
    catalog: {
      type: 'string',
      arg: 'FILE',
      help: "item metadata CSV (item, and any of category, price, in_stock, tags): the filters' data for a source without it (the outcome log)",
    },
    name: { type: 'string', arg: 'NAME', default: DEFAULT_RECS_MODEL, help: 'model name (its companion is <name>-popular)' },
    version: { type: 'string', arg: 'V', help: 'its version (default t<time>)' },
    k: { type: 'integer', min: 1, max: 500, default: 50, help: 'neighbours kept per item' },
    norm: { type: 'string', choices: ['cosine', 'lift', 'jaccard'], default: 'cosine', help: 'how pair counts are normalized' },
    alpha: { type: 'number', min: 0, max: 1, default: 0.5, help: 'the normalization exponent' },
    shrink: { type: 'number', min: 0, default: 2, help: 'shrinkage of rare pairs' },
    'min-count': { type: 'number', min: 0, default: 0, help: 'drop pairs below this weighted count' },
    'half-life': { type: 'number', arg: 'DAYS', min: 0, help: 'weight baskets by age (0 or unset: no decay)' },
    'basket-weight': {
      type: 'string',
      choices: BASKET_WEIGHTS,
      default: DEFAULT_BASKET_WEIGHT,
      help: 'how big baskets weigh in the pair counts: size (1/n), log, sqrt, cap (pairs of at most 100 sampled items), none',
    },
    'next-basket-days': {
      type: 'integer',
      min: 0,
      default: DEFAULT_VALID_DAYS,
      help: "fit the next-basket model (orders in /v1/recommend) with the last this many days held out for validation; 0: no fit (orders then rank by the customer's own purchase counts, then similarity)",
    },
    out: { type: 'string', arg: 'DIR', default: 'models/compiled', help: 'where the blobs are written' },
    eval: {
      type: 'boolean',
      help: "retail CSV only: before publishing, evaluate the same settings on the protocol's split (the last 14 days held out, as recs:eval) and stop with exit 1 if the served model loses more than 1 % against full precision",
    },
    publish: { type: 'boolean', help: 'publish through the atomic path (local KV by default)' },
    remote: { type: 'boolean', help: 'with --publish: the real namespace' },
    persist: { type: 'string', arg: 'DIR', help: 'with --publish: the local state folder, as wrangler dev --persist-to' },
  },
} as const satisfies CliSpec;

/** The first line of a CSV, plain or gzipped (the reader takes both). */
async function readHeader(path: string): Promise<string> {
  const { createReadStream } = await import('node:fs');
  const { createInterface } = await import('node:readline');
  const { createGunzip } = await import('node:zlib');
  const stream = createReadStream(path);
  const rl = createInterface({ input: path.endsWith('.gz') ? stream.pipe(createGunzip()) : stream });
  for await (const line of rl) {
    rl.close();
    stream.destroy();
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

async function main({ values }: ParsedCli<typeof SPEC.options>): Promise<void> {
  const norm = values.norm as Normalization;
  const version = values.version ?? defaultVersion();
  if (!NAME.test(values.name) || !NAME.test(version)) throw new UsageError('--name and --version: lower-case letters, digits, . _ -');
  const given = values['half-life'];
  const halfLife = given === 0 ? undefined : given; // 0: no decay, as recs:eval reads it
  const opts = {
    k: values.k,
    norm,
    alpha: values.alpha,
    shrink: values.shrink,
    minCount: values['min-count'],
    halfLifeDays: halfLife,
    basketWeight: values['basket-weight'] as BasketWeight,
    nextBasketDays: values['next-basket-days'],
  };
  try {
    checkNeighbourOptions({ ...opts, halfLifeDays: given });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!values.csv === !values.log.length) throw new UsageError('give exactly one of --csv or --log');
  // one line and exit 2, as for a bad option (no usage: the name was right, the file is not there)
  for (const file of [values.csv, ...values.log, values.catalog])
    if (file !== undefined && !existsSync(file)) throw new CliError(`no such file: ${file}`, 2);
  const format = values.csv
    ? (values.format ?? ((await readHeader(values.csv)).startsWith('InvoiceNo,') ? 'retail' : 'interactions'))
    : 'log';
  if (values.eval && format !== 'retail')
    throw new CliError('--eval needs the retail --csv (the UCI Online Retail export): its protocol splits invoices by time');

  const t0 = performance.now();
  let data: BasketSet;
  if (values.csv) {
    data = format === 'retail' ? await readRetailCsv(values.csv) : await readInteractionsCsv(values.csv);
  } else {
    data = await readOutcomeLog(values.log, { site: values.site });
  }
  if (values.catalog) console.log(`catalog: ${await readCatalogCsv(values.catalog, data.items)} items from ${values.catalog}`);
  // Nothing usable (an unreadable or empty log): say so, rather than replace a good model with an empty one.
  if (data.baskets.length === 0)
    throw new CliError(`no baskets to learn from: ${JSON.stringify(data.rows)} (check --log/--csv and the date range)`);
  const built = build(data.baskets, data.items, opts);
  const blobs = compile(built, values.name, version);
  const withNeighbours = built.rows.filter((r) => r.length > 0).length;
  console.log(`read ${JSON.stringify(data.rows)}`);
  console.log(
    `baskets ${built.counts.baskets}, items ${built.counts.ids.length} (${withNeighbours} with neighbours), pairs ${built.counts.pairs.size}, popularity segments ${Object.keys(built.popularity).length}`,
  );
  const nb = built.nextBasket;
  console.log(
    `next basket: ${nb === null ? 'not fitted (--next-basket-days 0)' : nb.ok ? `fitted ${JSON.stringify(nb.fit.fit)}` : `not fitted: ${nb.reason}; orders rank by own purchase counts`}`,
  );
  console.log(
    `model ${values.name}@${version}: ${blobs.model.byteLength} bytes; companion ${popularCompanion(values.name)}@${version}: ${blobs.companion.byteLength} bytes; ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  await mkdir(values.out, { recursive: true });
  await writeFile(join(values.out, `${values.name}@${version}.bin`), blobs.model);
  await writeFile(join(values.out, `${popularCompanion(values.name)}@${version}.bin`), blobs.companion);

  if (values.eval) {
    // The protocol's model (the same settings on the first 80 % of invoices by time), not the one
    // just built from all of them: that one has no held-out data left to measure it on.
    const report = await evaluate({ ...opts, csv: values.csv!, testDays: 14, holdoutCustomers: 0, seed: 1 });
    console.log(`\n${formatReport(report)}`);
    const loss = servedLoss(report);
    if (loss > QUANTIZATION_BUDGET) {
      throw new CliError(
        `the served model loses ${(loss * 100).toFixed(2)}% against full precision (budget ${QUANTIZATION_BUDGET * 100}%)${values.publish ? ': not published' : ''}`,
      );
    }
  }

  if (values.publish) {
    const store = values.remote ? remoteStorage() : await localStorage(values.persist);
    try {
      for (const r of await publishRecs(store.storage, blobs)) {
        if (!r.ok) throw new CliError(`publish failed: ${r.reason}${r.detail ? ` (${r.detail})` : ''}`);
        console.log(`${r.unchanged ? 'same   ' : 'active '} ${r.name}@${r.version}`);
      }
    } finally {
      await store.close();
    }
  }
}

await cliMain(import.meta.url, SPEC, main);
