/**
 * Currency conversion through a rates table: `rates[X]` = units of X per 1 unit of `base`.
 * Floors arrive in the exchange's `bidfloorcur`; campaigns are priced in the base currency.
 * A currency missing from the table cannot be compared, so the caller skips that imp rather
 * than guessing.
 */

export interface RatesTable {
  readonly base: string;
  readonly rates: Readonly<Record<string, number>>;
}

/** Fallback rates (units per USD) used until an operator stores fresh ones at `config/fx-rates`. */
export const DEFAULT_RATES: RatesTable = {
  base: 'USD',
  rates: {
    USD: 1,
    EUR: 0.92,
    GBP: 0.79,
    JPY: 150,
    CAD: 1.36,
    AUD: 1.52,
    CHF: 0.88,
    MXN: 17.1,
    BRL: 5,
    INR: 83,
    CNY: 7.2,
    SEK: 10.5,
    PLN: 4,
  },
};

function rateOf(t: RatesTable, cur: string): number | null {
  const c = cur.toUpperCase();
  if (c === t.base) return 1;
  const r = t.rates[c];
  return r !== undefined && r > 0 ? r : null;
}

/** `amount` in `from` expressed in `to`, or null when either is unknown. */
export function convert(t: RatesTable, amount: number, from: string, to: string): number | null {
  const a = rateOf(t, from);
  const b = rateOf(t, to);
  return a === null || b === null ? null : (amount / a) * b;
}

/**
 * The response currency: the base when the request allows it (or names none), else the first
 * allowed currency we can convert to; null when none.
 */
export function responseCurrency(t: RatesTable, allowed: readonly string[] | undefined): string | null {
  if (!allowed || allowed.length === 0) return t.base;
  for (const c of allowed) if (c.toUpperCase() === t.base) return t.base;
  for (const c of allowed) if (rateOf(t, c) !== null) return c.toUpperCase();
  return null;
}
