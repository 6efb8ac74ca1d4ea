/**
 * The basket-size weighting ablation of docs/recommendations.md: how big baskets weigh in the
 * pair counts (src/train/recs/cooccurrence.ts), each rule through the whole `recs:eval`
 * protocol on the same split, everything else at its default.
 *
 *   npm run bench:recs-weights -- [recs:eval options, e.g. --csv ../shared/data/retail/….csv --test-days 14]
 *
 * Rows: hide-one HR@10 of the served model (basket completion), next-basket recall@10 of the
 * served model with orders (the default query) and of the plain item-item blend of the recent
 * items (similarity alone, where the weighting shows most), and the pair count.
 */
import { BASKET_WEIGHTS } from '../../src/train/recs/cooccurrence.ts';
import { ROWS } from '../../src/train/recs/eval-protocol.ts';
import { cliArgs } from '../../src/train/cli.ts';
import { EVAL_OPTIONS, evalOptions, evaluate, SLICE } from '../../src/train/recs/evaluate.ts';

const { 'basket-weight': _, ...options } = EVAL_OPTIONS;
const { values } = cliArgs({
  name: 'bench:recs-weights',
  usage: 'npm run bench:recs-weights -- [recs:eval options except --basket-weight]',
  summary: 'The basket-size weighting ablation: each rule through the whole recs:eval protocol on the same split.',
  options,
});
const base = evalOptions({ ...values, 'basket-weight': 'size' });
console.log(
  `data: ${base.csv === SLICE ? 'the shipped slice (data-samples/)' : base.csv}; test days ${base.testDays}; held-out customers ${base.holdoutCustomers}`,
);
console.log(
  '| basket weight | basket completion HR@10 (hide one) | next basket recall@10, orders | next basket recall@10, item-item of recent items | pairs |',
);
console.log('| --- | --- | --- | --- | --- |');
for (const rule of BASKET_WEIGHTS) {
  const r = await evaluate({ ...base, basketWeight: rule });
  const f = (x: number | undefined) => (x ?? NaN).toFixed(4);
  console.log(
    `| ${rule} | ${f(r.hideOne.rows[ROWS.served]?.hr)} | ${f(r.next.rows[ROWS.orders]?.recall)} | ${f(r.next.rows[ROWS.recent]?.recall)} | ${r.setup.pairs} |`,
  );
}
