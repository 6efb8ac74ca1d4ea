/**
 * The query strings of our notice and click URLs (bid-response.ts writes them, notice-signature.ts
 * signs them): our fields from the signed prefix, the exchange's macro values after it, each
 * checked at the boundary. Shared by the notice and click routes.
 */
import * as z from 'zod/mini';
import { EXCHANGE_ID } from '../../core/bidding/exchange-keys.ts';
import { HttpError } from '../shared/http-error.ts';
import { shortText } from '../shared/request-schema.ts';
import { log } from '../shared/log.ts';

/** Our fields, read from the signed prefix only (notice-signature.ts). */
export const SignedQuery = z.object({
  d: shortText(64),
  c: shortText(64),
  cr: z.optional(shortText(64)),
  imp: z.optional(shortText(128)),
  bid: z.optional(z.string()),
  // the currency the bid was made in, and when (seconds since epoch)
  bc: z.string().check(z.regex(/^[A-Z]{3}$/)),
  t: z.string().check(z.regex(/^\d{1,12}$/)),
  pub: z.optional(z.string().check(z.maxLength(128))),
  u: z.optional(shortText(256)),
  // the exchange the bid was made for; absent in notices signed before exchanges were configured
  x: z.optional(z.string().check(z.regex(EXCHANGE_ID))),
  // the placement (floors-feedback.ts), and a test auction's mark (its notices book nothing)
  pl: z.optional(z.string().check(z.regex(/^[0-9a-f]{16}$/))),
  test: z.optional(z.literal('1')),
});
/** The exchange's macro values, the only names allowed after the signature. */
export const MacroQuery = z.object({
  price: z.optional(z.string().check(z.maxLength(64))),
  mtw: z.optional(z.string().check(z.maxLength(64))),
  // empty: the exchange withheld it (OpenRTB allows that for any macro)
  cur: z.optional(z.string().check(z.regex(/^([A-Za-z]{3}|\$\{AUCTION_CURRENCY\})?$/, 'an ISO 4217 code such as "USD"'))),
  reason: z.optional(z.string().check(z.maxLength(64))),
  auc: z.optional(z.string().check(z.maxLength(256))),
});
export type SignedQuery = z.infer<typeof SignedQuery>;
export type MacroQuery = z.infer<typeof MacroQuery>;

/** Query pairs as an object; a name given twice is refused (which one would count?). */
export function pairs(query: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) {
    if (Object.hasOwn(out, k)) throw new HttpError(400, 'bad_request', `${k}: given more than once`, k);
    out[k] = v;
  }
  return out;
}

const MACRO_NAMES: ReadonlySet<string> = new Set(['price', 'mtw', 'cur', 'reason', 'auc']);

/**
 * The pairs after the signature: macro values only. Other names (an exchange's cache buster,
 * or someone's `&c=other`) are dropped and logged: our fields are read from the signed part.
 */
export function macroPairs(query: string): Record<string, string> {
  const out = pairs(query);
  const foreign = Object.keys(out).filter((k) => !MACRO_NAMES.has(k));
  if (foreign.length > 0) {
    log.warn('notice: parameters after the signature ignored', { names: foreign.slice(0, 10) });
    for (const k of foreign) delete out[k];
  }
  return out;
}

/**
 * What a click URL carries (`clickQuery`): the bid, when it was made, and for which exchange
 * (absent in clicks of bids made before exchanges were configured: counted for `unknown`).
 */
export const ClickQuery = z.object({
  d: shortText(64),
  c: shortText(64),
  cr: shortText(64),
  imp: z.optional(shortText(128)),
  t: z.string().check(z.regex(/^\d{1,12}$/)),
  x: z.optional(z.string().check(z.regex(EXCHANGE_ID))),
  // a test auction's ad: its click is not counted
  test: z.optional(z.literal('1')),
});
