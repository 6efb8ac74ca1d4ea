/**
 * Baskets for the item-item trainer, from three sources, each streamed:
 * - the UCI "Online Retail" export (InvoiceNo,StockCode,Description,Quantity,InvoiceDate,
 *   UnitPrice,CustomerID,Country), cleaned as its SOURCE.md says: cancellations, non-positive
 *   quantities, non-product codes and exact duplicate rows dropped; codes upper-cased;
 * - a generic interactions CSV with a header naming `basket` (or `session`), `item`, and
 *   optionally `time` (ISO date, or Unix seconds or milliseconds), `user`, `country`, `category`,
 *   `price`, `in_stock`, `tags` (`;`-separated);
 * - our own outcome log (page/add_to_cart/purchase/click events with `items`), one basket per
 *   visitor session (30 minutes without an event ends it): log-baskets.ts, through DuckDB.
 * Item metadata for the filters (category, price, stock, tags) is collected on the way.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';

export interface Basket {
  readonly id: string;
  readonly items: string[];
  /** ms since epoch */
  readonly ts: number;
  readonly user?: string | undefined;
  readonly segment?: string | undefined;
}

export interface ItemFacts {
  category?: string | undefined;
  /** unit prices seen; the trainer bands their median */
  prices: number[];
  inStock?: boolean | undefined;
  tags?: string[] | undefined;
  description?: string | undefined;
}

export interface BasketSet {
  readonly baskets: Basket[];
  readonly items: Map<string, ItemFacts>;
  readonly rows: { read: number; kept: number; dropped: Record<string, number> };
}

/** RFC-4180 fields of one line (quoted fields may hold commas and doubled quotes). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) {
          v += line.slice(i);
          i = line.length;
          break;
        }
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(v);
      if (line[i] === ',') {
        i++;
        continue;
      }
      return out;
    }
    const c = line.indexOf(',', i);
    if (c < 0) {
      out.push(line.slice(i));
      return out;
    }
    out.push(line.slice(i, c));
    i = c + 1;
  }
}

function lines(path: string): AsyncIterable<string> {
  const stream = createReadStream(path);
  return createInterface({ input: path.endsWith('.gz') ? stream.pipe(createGunzip()) : stream, crlfDelay: Infinity });
}

/** ISO-2 codes for the countries of the retail data set (the edge context speaks ISO-2). */
const COUNTRY: Readonly<Record<string, string>> = {
  'United Kingdom': 'GB',
  Germany: 'DE',
  France: 'FR',
  EIRE: 'IE',
  Spain: 'ES',
  Switzerland: 'CH',
  Netherlands: 'NL',
  Belgium: 'BE',
  Portugal: 'PT',
  Norway: 'NO',
  Italy: 'IT',
  'Channel Islands': 'JE',
  Australia: 'AU',
  Cyprus: 'CY',
  Finland: 'FI',
  Israel: 'IL',
  USA: 'US',
  Austria: 'AT',
  Sweden: 'SE',
  Denmark: 'DK',
  Poland: 'PL',
  'Hong Kong': 'HK',
  Malta: 'MT',
  Iceland: 'IS',
  Japan: 'JP',
  RSA: 'ZA',
  'United Arab Emirates': 'AE',
  Singapore: 'SG',
  'Czech Republic': 'CZ',
  Canada: 'CA',
  Greece: 'GR',
  Lithuania: 'LT',
  Brazil: 'BR',
  Lebanon: 'LB',
  Bahrain: 'BH',
  'Saudi Arabia': 'SA',
};

const PRODUCT = /^\d{5}[A-Z]*$/;

/** The retail data set has no categories: the last word of the description names the kind of thing. */
export function retailCategory(description: string): string | undefined {
  const words = description
    .toUpperCase()
    .replace(/[^A-Z ]/g, ' ')
    .trim()
    .split(/\s+/);
  const last = words[words.length - 1];
  return last && last.length > 1 ? last.toLowerCase() : undefined;
}

/** The facts of item `id`, created empty on first sight. */
export function facts(items: Map<string, ItemFacts>, id: string): ItemFacts {
  let f = items.get(id);
  if (!f) items.set(id, (f = { prices: [] }));
  return f;
}

/**
 * A time column: an ISO date, or a number. Numbers below 10^11 are Unix seconds (10^11 seconds
 * is the year 5138; 10^11 ms is 1973), so exports in seconds and in milliseconds both work.
 */
const parseTime = (s: string): number => {
  if (/^\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    return n < 1e11 ? Math.round(n * 1000) : n;
  }
  const t = Date.parse(/^\d{4}-\d\d-\d\d \d/.test(s) ? `${s.replace(' ', 'T')}Z` : s);
  return Number.isFinite(t) ? t : 0;
};

export async function readRetailCsv(path: string): Promise<BasketSet> {
  const byInvoice = new Map<string, { items: Set<string>; ts: number; user?: string; segment?: string }>();
  const items = new Map<string, ItemFacts>();
  const seen = new Set<string>();
  const dropped: Record<string, number> = { cancelled: 0, quantity: 0, nonProduct: 0, duplicate: 0 };
  let read = 0;
  let kept = 0;
  let header = true;
  for await (const line of lines(path)) {
    if (header) {
      header = false;
      continue;
    }
    if (line === '') continue;
    read++;
    const [invoice = '', code = '', description = '', quantity = '', date = '', price = '', customer = '', country = ''] = csvFields(line);
    if (invoice.startsWith('C')) {
      dropped.cancelled!++;
      continue;
    }
    if (!(Number(quantity) > 0)) {
      dropped.quantity!++;
      continue;
    }
    const item = code.toUpperCase();
    if (!PRODUCT.test(item)) {
      dropped.nonProduct!++;
      continue;
    }
    if (seen.has(line)) {
      dropped.duplicate!++;
      continue;
    }
    seen.add(line);
    kept++;
    let b = byInvoice.get(invoice);
    if (!b) {
      const user = customer ? customer.replace(/\.0$/, '') : undefined;
      const segment = COUNTRY[country];
      byInvoice.set(invoice, (b = { items: new Set(), ts: parseTime(date), ...(user ? { user } : {}), ...(segment ? { segment } : {}) }));
    }
    b.items.add(item);
    const f = facts(items, item);
    const p = Number(price);
    if (p > 0 && f.prices.length < 64) f.prices.push(p);
    if (f.description === undefined) {
      f.description = description.trim();
      f.category = retailCategory(description);
      if (/CHRISTMAS|XMAS/i.test(description)) f.tags = ['christmas'];
    }
  }
  const baskets = [...byInvoice].map(([id, b]) => ({ id, items: [...b.items], ts: b.ts, user: b.user, segment: b.segment }));
  baskets.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1));
  return { baskets, items, rows: { read, kept, dropped } };
}

/** The item columns of a CSV row (`category`, `price`, `in_stock`, `tags`) into its facts. */
function addFacts(x: ItemFacts, get: (name: string) => string | undefined): void {
  const price = Number(get('price'));
  if (price > 0 && x.prices.length < 64) x.prices.push(price);
  x.category ??= get('category');
  const stock = get('in_stock');
  if (stock !== undefined) x.inStock = !/^(0|false|no)$/i.test(stock);
  const tags = get('tags');
  if (tags)
    x.tags = tags
      .split(';')
      .map((t) => t.trim())
      .filter(Boolean);
}

/**
 * A catalog CSV (header: `item`, and any of `category`, `price`, `in_stock`, `tags`): item
 * metadata for the filters, for sources that carry none (our outcome log has ids and prices
 * only). Its values win over what the baskets said; items it does not list keep theirs.
 * Returns how many rows it read.
 */
export async function readCatalogCsv(path: string, items: Map<string, ItemFacts>): Promise<number> {
  let cols: Map<string, number> | null = null;
  let read = 0;
  for await (const line of lines(path)) {
    if (line === '') continue;
    const f = csvFields(line);
    if (cols === null) {
      cols = new Map(f.map((h, i) => [h.trim().toLowerCase(), i]));
      if (!cols.has('item')) throw new Error(`${path}: a catalog's header needs "item"; got ${f.join(',')}`);
      continue;
    }
    const get = (name: string) => {
      const i = cols!.get(name);
      return i === undefined ? undefined : f[i]?.trim() || undefined;
    };
    const item = get('item');
    if (!item) continue;
    read++;
    const x = facts(items, item);
    if (get('category') !== undefined) x.category = undefined; // the catalog's category, not the first seen
    if (get('price') !== undefined) x.prices.length = 0;
    addFacts(x, get);
  }
  return read;
}

/** A generic interactions CSV (see the module comment). */
export async function readInteractionsCsv(path: string): Promise<BasketSet> {
  const byBasket = new Map<string, { items: Set<string>; ts: number; user?: string; segment?: string }>();
  const items = new Map<string, ItemFacts>();
  let cols: Map<string, number> | null = null;
  let read = 0;
  const dropped: Record<string, number> = { noItem: 0 };
  for await (const line of lines(path)) {
    if (line === '') continue;
    const f = csvFields(line);
    if (cols === null) {
      cols = new Map(f.map((h, i) => [h.trim().toLowerCase(), i]));
      if (!cols.has('item') || !(cols.has('basket') || cols.has('session'))) {
        throw new Error(`${path}: header needs "item" and "basket" (or "session"); got ${f.join(',')}`);
      }
      continue;
    }
    read++;
    const get = (name: string) => {
      const i = cols!.get(name);
      return i === undefined ? undefined : f[i]?.trim() || undefined;
    };
    const item = get('item');
    const basket = get('basket') ?? get('session');
    if (!item || !basket) {
      dropped.noItem!++;
      continue;
    }
    let b = byBasket.get(basket);
    if (!b) {
      const user = get('user');
      const segment = get('country')?.toUpperCase();
      byBasket.set(
        basket,
        (b = { items: new Set(), ts: parseTime(get('time') ?? '0'), ...(user ? { user } : {}), ...(segment ? { segment } : {}) }),
      );
    }
    b.items.add(item);
    addFacts(facts(items, item), get);
  }
  const baskets = [...byBasket].map(([id, b]) => ({ id, items: [...b.items], ts: b.ts, user: b.user, segment: b.segment }));
  baskets.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1));
  return { baskets, items, rows: { read, kept: read - dropped.noItem!, dropped } };
}
