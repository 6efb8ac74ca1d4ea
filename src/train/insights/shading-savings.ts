/**
 * Shading savings from the log, by the campaign stats' definition (core/bidding/campaign-stats.ts
 * `shadingSavings`, `shadingSavingsShare`; docs/bidding.md "Campaign stats"): over won bids, Σ
 * (value − price paid), and its share of Σ value, where value is what the impression was worth to
 * the campaign (its unshaded, truthful bid) and the price paid the notice's clearing price. What
 * first-price shading kept, or a second-price auction's discount.
 *
 * The ledger knows each bid's value from its hold; the log knows it from the bid's decision record
 * (`value`, CPM in the campaign currency: core/bidding/bid-records.ts). A win counts when both are
 * known: its decision logged a value (records written before the field have none) and a win or
 * billing notice named a price (spend, in load-sql.ts, is 0 without one, and so would make the
 * whole value look saved). Both are CPM, so / 1000 gives money per impression, as `spend`.
 *
 * The SQL reads `u`'s own columns: `won`, `paid` (the notices' highest clearing price / 1000, or
 * null) and `bid_value`.
 */
const COUNTED = 'coalesce(won, false) AND paid IS NOT NULL AND bid_value IS NOT NULL';

/** `u`'s `won_value` and `saved` columns, per decision (0 where the win does not count) */
export const SAVINGS_COLUMNS_SQL = `CASE WHEN ${COUNTED} THEN bid_value / 1000 ELSE 0 END::DOUBLE AS won_value,
            CASE WHEN ${COUNTED} THEN bid_value / 1000 - paid ELSE 0 END::DOUBLE AS saved`;
