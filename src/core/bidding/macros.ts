/**
 * OpenRTB 2.6 substitution macros (§4.4). The exchange expands them in the notice URLs it
 * calls; we expand them in creative markup served on the win notice, and read them back from
 * notice query strings, where an exchange that does not support a macro leaves it verbatim.
 */

export const MACROS = [
  'AUCTION_ID',
  'AUCTION_BID_ID',
  'AUCTION_IMP_ID',
  'AUCTION_SEAT_ID',
  'AUCTION_AD_ID',
  'AUCTION_PRICE',
  'AUCTION_CURRENCY',
  'AUCTION_MBR',
  'AUCTION_LOSS',
  'AUCTION_MIN_TO_WIN',
  'AUCTION_MULTIPLIER',
  'AUCTION_IMP_TS',
] as const;
export type Macro = (typeof MACROS)[number];

const PATTERN = /\$\{(AUCTION_[A-Z_]+)\}/g;

/**
 * Replaces every known `${MACRO}` with its value; unknown or unset macros become ''. Values are
 * percent-encoded beyond `A-Z a-z 0-9 . _ ~ -`: they land in markup we serve as HTML, mostly
 * inside URLs, and some come from the exchange (an auction id, an imp id), so none may carry a
 * quote or an angle bracket into the page.
 */
export function expandMacros(template: string, values: Partial<Record<Macro, string | number>>): string {
  if (template.indexOf('${') === -1) return template;
  return template.replace(PATTERN, (_m, name: string) => {
    const v = values[name as Macro];
    return v === undefined ? '' : encodeStrict(String(v));
  });
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** 1 for the characters `encodeStrict` leaves as they are: A-Z a-z 0-9 . _ ~ - */
const UNRESERVED = new Uint8Array(128);
for (let c = 0; c < 128; c++) UNRESERVED[c] = /[A-Za-z0-9._~-]/.test(String.fromCharCode(c)) ? 1 : 0;

/**
 * encodeURIComponent, which leaves `! ' ( ) *` and throws on a lone surrogate, made strict:
 * only `A-Z a-z 0-9 . _ ~ -` stay. Also what notice URLs carry, because URL parsers escape a
 * `'` in a query themselves, which would change the bytes a notice's signature covers. Most
 * values (decision ids, campaign and imp ids) need nothing, so they are only scanned.
 */
export function encodeStrict(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || UNRESERVED[c] === 0) {
      return encodeURIComponent(s.replace(LONE_SURROGATE, '\uFFFD')).replace(
        /[!'()*]/g,
        (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
      );
    }
  }
  return s;
}

/** A macro value from a notice query: a finite number, or undefined when absent or left unexpanded. */
export function macroNumber(raw: string | null | undefined): number | undefined {
  if (raw === null || raw === undefined || raw === '' || raw.includes('${')) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}
