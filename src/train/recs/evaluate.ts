/**
 * `npm run recs:eval -- --help` prints USAGE below; the protocol is in eval-protocol.ts.
 *
 * Without `--csv` it runs on the slice of UCI Online Retail shipped in `data-samples/` (so it
 * works in a fresh clone), and says so; `--csv FILE` for the full export. Exits 1 when the
 * served model loses more than 1 % relative to full precision on any metric, 2 on bad options
 * or a missing file (one line, no stack trace).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BASKET_WEIGHTS, checkNeighbourOptions, DEFAULT_BASKET_WEIGHT, type BasketWeight, type Normalization } from './cooccurrence.ts';
import { evaluate, QUANTIZATION_BUDGET, ROWS, servedLoss, type EvalOptions, type EvalReport } from './eval-protocol.ts';
import { DEFAULT_VALID_DAYS } from './next-basket.ts';

export { evaluate, QUANTIZATION_BUDGET, servedLoss, type EvalOptions, type EvalReport } from './eval-protocol.ts';

/** The shipped slice (data-samples/online-retail-slice.md says what was cut). */
export const SLICE = fileURLToPath(new URL('../../../data-samples/online-retail-slice.csv.gz', import.meta.url));
export const SLICE_NOTE = 'the shipped slice of UCI Online Retail (data-samples/online-retail-slice.md); --csv FILE for the full export';

const USAGE = `npm run recs:eval [-- options]

Offline evaluation of the item-item recommender on the UCI Online Retail export (order-free,
split by time): basket completion (one item hidden; half hidden) and next basket (each returning
customer's orders in, their first basket of the test period out), for popularity, the
customer's own purchase counts, and the model as the Worker serves it.

  --csv file              the UCI Online Retail export (CSV, plain or .gz); default: the slice
                          shipped in data-samples/ (a customer sample, see its .md)
  --test-days 14          the test period: the last this many days of the file
  --holdout-customers 0   leave this share of customers (0..1) out of training, and ask next
                          basket for them only
  --basket-weight size    how big baskets weigh in pair counts: ${BASKET_WEIGHTS.join('|')}
  --next-basket-days 14   the validation window the next-basket model is fitted on (0: none,
                          the model's defaults: own purchase counts, then similarity)
  --k 50 --norm cosine|lift|jaccard --alpha 0.5 --shrink 2 --half-life 0 --min-count 0
  --seed 1                which items are hidden
  --json                  the report as JSON`;

class UsageError extends Error {}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const f4 = (x: number) => x.toFixed(4);

export function formatReport(r: EvalReport): string {
  const s = r.setup;
  const lines: string[] = [];
  lines.push(`data: ${s.csv === SLICE ? `data-samples/online-retail-slice.csv.gz, ${SLICE_NOTE}` : s.csv}`);
  lines.push(`rows ${JSON.stringify(s.rows)}`);
  lines.push(
    `invoices ${s.invoices} (train ${s.trainInvoices} before ${s.cutoff}, test ${s.testInvoices}${s.heldOutCustomers ? `; ${pct(s.heldOutCustomers as number)} of customers held out of training` : ''}); items ${s.items}, pairs ${s.pairs}; served model ${s.modelBytes} bytes; ${s.seconds}s`,
  );
  lines.push(`params ${JSON.stringify(s.params)}`);
  lines.push(`next-basket fit ${JSON.stringify(s.nextBasket)}`);
  for (const [title, t] of [
    ['(a) basket completion, one item hidden', r.hideOne],
    ['(a) basket completion, half the items hidden', r.hideHalf],
    ['(b) next basket of returning customers', r.next],
  ] as const) {
    const cases = Object.values(t.rows)[0]!.cases;
    lines.push('', `${title}: ${cases} cases`, '| method | HR@10 | recall@10 | NDCG@10 |', '| --- | --- | --- | --- |');
    for (const [m, v] of Object.entries(t.rows)) lines.push(`| ${m} | ${f4(v.hr)} | ${f4(v.recall)} | ${f4(v.ndcg)} |`);
    for (const [m, g] of Object.entries(t.gaps))
      lines.push(`${m} vs full precision (relative): HR ${pct(g.hr)}, recall ${pct(g.recall)}, NDCG ${pct(g.ndcg)}`);
  }
  const own = r.next.rows[ROWS.own];
  const orders = r.next.rows[ROWS.orders];
  if (own && orders && own.recall > 0)
    lines.push('', `next basket, served (orders) vs own purchase counts: recall@10 ${pct(orders.recall / own.recall - 1)}`);
  return lines.join('\n');
}

function number(values: Record<string, unknown>, name: string): number {
  const v = Number(values[name]);
  if (!Number.isFinite(v)) throw new UsageError(`--${name} must be a number`);
  return v;
}

/** The options, checked before anything is read. */
export function evalOptions(argv: readonly string[]): EvalOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        csv: { type: 'string' },
        'test-days': { type: 'string', default: '14' },
        'holdout-customers': { type: 'string', default: '0' },
        'basket-weight': { type: 'string', default: DEFAULT_BASKET_WEIGHT },
        'next-basket-days': { type: 'string', default: String(DEFAULT_VALID_DAYS) },
        seed: { type: 'string', default: '1' },
        k: { type: 'string', default: '50' },
        norm: { type: 'string', default: 'cosine' },
        alpha: { type: 'string', default: '0.5' },
        shrink: { type: 'string', default: '2' },
        'half-life': { type: 'string', default: '0' },
        'min-count': { type: 'string', default: '0' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const norm = values.norm as Normalization;
  if (!['cosine', 'lift', 'jaccard'].includes(norm)) throw new UsageError('--norm must be cosine, lift or jaccard');
  const basketWeight = values['basket-weight'] as BasketWeight;
  if (!BASKET_WEIGHTS.includes(basketWeight)) throw new UsageError(`--basket-weight must be one of ${BASKET_WEIGHTS.join(', ')}`);
  const halfLife = number(values, 'half-life');
  const opts: EvalOptions = {
    csv: (values.csv as string | undefined) ?? SLICE,
    testDays: number(values, 'test-days'),
    holdoutCustomers: number(values, 'holdout-customers'),
    seed: number(values, 'seed'),
    k: number(values, 'k'),
    norm,
    alpha: number(values, 'alpha'),
    shrink: number(values, 'shrink'),
    minCount: number(values, 'min-count'),
    basketWeight,
    nextBasketDays: number(values, 'next-basket-days'),
    ...(halfLife !== 0 ? { halfLifeDays: halfLife } : {}),
  };
  try {
    checkNeighbourOptions(opts);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!(Number.isInteger(opts.testDays) && opts.testDays >= 1)) throw new UsageError('--test-days must be a whole number of days ≥ 1');
  if (!(opts.holdoutCustomers >= 0 && opts.holdoutCustomers < 1)) throw new UsageError('--holdout-customers must be a share in [0, 1)');
  if (!(Number.isInteger(opts.nextBasketDays) && opts.nextBasketDays! >= 0))
    throw new UsageError('--next-basket-days must be a whole number ≥ 0');
  if (!Number.isInteger(opts.seed)) throw new UsageError('--seed must be an integer');
  if (!existsSync(opts.csv))
    throw new UsageError(`no such file: ${opts.csv}${values.csv === undefined ? ' (the shipped slice: is data-samples/ there?)' : ''}`);
  return opts;
}

async function main(): Promise<void> {
  const opts = evalOptions(process.argv.slice(2));
  if (opts === 'help') {
    console.log(USAGE);
    return;
  }
  const json = process.argv.includes('--json');
  if (!json) console.log(`data: ${opts.csv === SLICE ? `data-samples/online-retail-slice.csv.gz (${SLICE_NOTE})` : opts.csv}`);
  const report = await evaluate(opts);
  console.log(json ? JSON.stringify(report, null, 2) : formatReport(report).split('\n').slice(1).join('\n'));
  const loss = servedLoss(report);
  if (loss > QUANTIZATION_BUDGET) {
    console.error(`served model loses ${pct(loss)} relative to full precision (budget 1%)`);
    process.exitCode = 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(`recs:eval: ${(err as Error).message}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  });
}
