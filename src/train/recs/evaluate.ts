/**
 * `npm run recs:eval -- --help` prints its usage (SPEC below); the protocol is in eval-protocol.ts.
 *
 * Without `--csv` it runs on the slice of UCI Online Retail shipped in `data-samples/` (so it
 * works in a fresh clone), and says so; `--csv FILE` for the full export. Exits 1 when the
 * served model loses more than 1 % relative to full precision on any metric, 2 on bad options
 * or a missing file (one line, no stack trace).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliError, type CliOption, type CliSpec, type CliValues, cliMain, UsageError } from '../cli.ts';
import { BASKET_WEIGHTS, checkNeighbourOptions, DEFAULT_BASKET_WEIGHT, type BasketWeight, type Normalization } from './cooccurrence.ts';
import { evaluate, QUANTIZATION_BUDGET, ROWS, servedLoss, type EvalOptions, type EvalReport } from './eval-protocol.ts';
import { DEFAULT_VALID_DAYS } from './next-basket.ts';

export { evaluate, QUANTIZATION_BUDGET, servedLoss, type EvalOptions, type EvalReport } from './eval-protocol.ts';

/** The shipped slice (data-samples/online-retail-slice.md says what was cut). */
export const SLICE = fileURLToPath(new URL('../../../data-samples/online-retail-slice.csv.gz', import.meta.url));
export const SLICE_NOTE = 'the shipped slice of UCI Online Retail (data-samples/online-retail-slice.md); --csv FILE for the full export';

/** The options of recs:eval (bench:recs-weights takes them too). */
export const EVAL_OPTIONS = {
  csv: {
    type: 'string',
    arg: 'FILE',
    help: 'the UCI Online Retail export (CSV, plain or .gz); default: the slice shipped in data-samples/ (a customer sample, see its .md)',
  },
  'test-days': { type: 'integer', min: 1, default: 14, help: 'the test period: the last this many days of the file' },
  'holdout-customers': {
    type: 'number',
    arg: 'SHARE',
    min: 0,
    max: 1,
    default: 0,
    help: 'leave this share of customers (0 to below 1) out of training, and ask next basket for them only',
  },
  'basket-weight': {
    type: 'string',
    choices: BASKET_WEIGHTS,
    default: DEFAULT_BASKET_WEIGHT,
    help: 'how big baskets weigh in pair counts',
  },
  'next-basket-days': {
    type: 'integer',
    min: 0,
    default: DEFAULT_VALID_DAYS,
    help: "the validation window the next-basket model is fitted on (0: none, the model's defaults: own purchase counts, then similarity)",
  },
  k: { type: 'integer', min: 1, max: 500, default: 50, help: 'neighbours kept per item' },
  norm: { type: 'string', choices: ['cosine', 'lift', 'jaccard'], default: 'cosine', help: 'how pair counts are normalized' },
  alpha: { type: 'number', min: 0, max: 1, default: 0.5, help: 'the normalization exponent' },
  shrink: { type: 'number', min: 0, default: 2, help: 'shrinkage of rare pairs' },
  'half-life': { type: 'number', arg: 'DAYS', min: 0, default: 0, help: 'weight baskets by age (0: no decay)' },
  'min-count': { type: 'number', min: 0, default: 0, help: 'drop pairs below this weighted count' },
  seed: { type: 'integer', default: 1, help: 'which items are hidden' },
} as const satisfies Record<string, CliOption>;

export const SPEC = {
  name: 'recs:eval',
  usage: 'npm run recs:eval [-- options]',
  summary:
    "Offline evaluation of the item-item recommender on the UCI Online Retail export (order-free, split by time): basket completion (one item hidden; half hidden) and next basket (each returning customer's orders in, their first basket of the test period out), for popularity, the customer's own purchase counts, and the model as the Worker serves it. Exits 1 when the served model loses more than 1 % against full precision on any metric.",
  options: { ...EVAL_OPTIONS, json: { type: 'boolean', help: 'the report as JSON' } },
} as const satisfies CliSpec;

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

/** The options as the protocol takes them, checked before anything is read. */
export function evalOptions(values: CliValues<typeof EVAL_OPTIONS>): EvalOptions {
  const opts: EvalOptions = {
    csv: values.csv ?? SLICE,
    testDays: values['test-days'],
    holdoutCustomers: values['holdout-customers'],
    seed: values.seed,
    k: values.k,
    norm: values.norm as Normalization,
    alpha: values.alpha,
    shrink: values.shrink,
    minCount: values['min-count'],
    basketWeight: values['basket-weight'] as BasketWeight,
    nextBasketDays: values['next-basket-days'],
    ...(values['half-life'] !== 0 ? { halfLifeDays: values['half-life'] } : {}),
  };
  try {
    checkNeighbourOptions(opts);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!(opts.holdoutCustomers < 1)) throw new UsageError(`--holdout-customers must be a share in [0, 1); got "${opts.holdoutCustomers}"`);
  // one line and exit 2, as for a bad option (no usage: the name was right, the file is not there)
  if (!existsSync(opts.csv))
    throw new CliError(`no such file: ${opts.csv}${values.csv === undefined ? ' (the shipped slice: is data-samples/ there?)' : ''}`, 2);
  return opts;
}

await cliMain(import.meta.url, SPEC, async ({ values }) => {
  const opts = evalOptions(values);
  if (!values.json) console.log(`data: ${opts.csv === SLICE ? `data-samples/online-retail-slice.csv.gz (${SLICE_NOTE})` : opts.csv}`);
  const report = await evaluate(opts);
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report).split('\n').slice(1).join('\n'));
  const loss = servedLoss(report);
  if (loss > QUANTIZATION_BUDGET) {
    console.error(`served model loses ${pct(loss)} relative to full precision (budget 1%)`);
    return 1;
  }
  return 0;
});
