/**
 * Top-k ranking metrics with binary relevance, averaged over cases:
 * HR@k (some relevant item in the top k), recall@k (share of the relevant items found) and
 * NDCG@k (DCG over the ideal DCG of min(|relevant|, k) hits at the top).
 */

export interface MetricSums {
  cases: number;
  hr: number;
  recall: number;
  ndcg: number;
}

export const emptySums = (): MetricSums => ({ cases: 0, hr: 0, recall: 0, ndcg: 0 });

export function addCase(sums: MetricSums, ranked: readonly string[], relevant: ReadonlySet<string>, k: number): void {
  if (relevant.size === 0) return;
  let hits = 0;
  let dcg = 0;
  const n = Math.min(k, ranked.length);
  for (let i = 0; i < n; i++) {
    if (relevant.has(ranked[i]!)) {
      hits++;
      dcg += 1 / Math.log2(i + 2);
    }
  }
  let idcg = 0;
  for (let i = 0; i < Math.min(k, relevant.size); i++) idcg += 1 / Math.log2(i + 2);
  sums.cases++;
  sums.hr += hits > 0 ? 1 : 0;
  sums.recall += hits / relevant.size;
  sums.ndcg += dcg / idcg;
}

export function means(s: MetricSums): { hr: number; recall: number; ndcg: number; cases: number } {
  const d = Math.max(1, s.cases);
  return { hr: s.hr / d, recall: s.recall / d, ndcg: s.ndcg / d, cases: s.cases };
}
