/**
 * Page type from a URL path, for sites that do not name it. A caller that knows better
 * (the snippet's `pageType`, a page-rules config) overrides this.
 */
import { MEMO_KEY_MAX, ownCopy } from './input-limits.ts';

export const PAGE_TYPES = [
  'home',
  'product',
  'category',
  'search',
  'cart',
  'checkout',
  'confirmation',
  'pricing',
  'content',
  'account',
  'support',
  'other',
] as const;
export type PageType = (typeof PAGE_TYPES)[number];

const RULES: ReadonlyArray<readonly [RegExp, PageType]> = [
  [/^\/(order-)?(confirmation|thank-?you|success)\b/, 'confirmation'],
  [/^\/(checkout|payment)\b/, 'checkout'],
  [/^\/(cart|basket|bag)\b/, 'cart'],
  [/^\/(pricing|plans|prices|subscribe)\b/, 'pricing'],
  [/^\/(products?|p|item|dp)\/./, 'product'],
  [/^\/(category|categories|collections?|c|shop|catalog|department)\b/, 'category'],
  [/^\/(search|s)\b/, 'search'],
  [/^\/(blog|news|articles?|posts?|guides?|stories)\b/, 'content'],
  [/^\/(account|login|signin|sign-in|signup|sign-up|register|profile|my)\b/, 'account'],
  [/^\/(help|support|faq|contact|docs)\b/, 'support'],
];

const memo = new Map<string, PageType>();

/**
 * Memoized (bounded) because a site's traffic concentrates on few paths; only short paths, each
 * kept as a string of its own (input-limits.ts), so the table stays small whatever it is fed.
 */
export function pageTypeOf(path: string): PageType {
  let type = memo.get(path);
  if (type === undefined) {
    type = classify(path);
    if (path.length <= MEMO_KEY_MAX) {
      if (memo.size >= 2048) memo.clear();
      memo.set(ownCopy(path), type);
    }
  }
  return type;
}

function classify(path: string): PageType {
  if (path === '' || path === '/' || /^\/(index\.html?)?$/.test(path)) return 'home';
  const lower = path.toLowerCase();
  for (const [re, type] of RULES) if (re.test(lower)) return type;
  return 'other';
}

export function isPageType(value: string): value is PageType {
  return (PAGE_TYPES as readonly string[]).includes(value);
}
