import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { csvFields, readCatalogCsv, readInteractionsCsv, readRetailCsv, retailCategory } from '../../src/train/recs/baskets.ts';
import { readOutcomeLog } from '../../src/train/recs/log-baskets.ts';
import { build, compile } from '../../src/train/recs/build.ts';
import { addCase, emptySums, means } from '../../src/train/recs/metrics.ts';
import { decodeItemKnn, itemId, itemIndex } from '../../src/core/recs/itemknn-model.ts';
import { neighboursOf } from '../../src/core/recs/recommend.ts';
import type { ModelStorage } from '../../src/core/model-registry.ts';
import { manifestKey } from '../../src/core/store-keys.ts';
import { publishRecs } from '../../src/train/recs/train.ts';
import { compileSources, contentVersioned } from '../../src/train/model-source.ts';

const dir = await mkdtemp(join(tmpdir(), 'attune-recs-'));

describe('basket readers', () => {
  it('parses RFC-4180 fields', () => {
    expect(csvFields('a,"b, c",d')).toEqual(['a', 'b, c', 'd']);
    expect(csvFields('"say ""hi""",,x')).toEqual(['say "hi"', '', 'x']);
    expect(csvFields('"last"')).toEqual(['last']);
  });

  it('cleans the retail export as SOURCE.md says', async () => {
    const file = join(dir, 'retail.csv');
    await writeFile(
      file,
      [
        'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
        '1,85123A,"WHITE HANGING HEART T-LIGHT HOLDER",6,2011-08-01 08:30:00,2.55,17850.0,United Kingdom',
        '1,85123a,"WHITE HANGING HEART T-LIGHT HOLDER",6,2011-08-01 08:30:00,2.55,17850.0,United Kingdom',
        '1,22075,"6 RIBBONS, CHRISTMAS",2,2011-08-01 08:30:00,1.45,17850.0,United Kingdom',
        '1,22075,"6 RIBBONS, CHRISTMAS",2,2011-08-01 08:30:00,1.45,17850.0,United Kingdom',
        '1,POST,POSTAGE,1,2011-08-01 08:30:00,18,17850.0,United Kingdom',
        'C2,22075,"6 RIBBONS, CHRISTMAS",-2,2011-08-02 08:30:00,1.45,17850.0,United Kingdom',
        '3,22075,"6 RIBBONS, CHRISTMAS",0,2011-08-02 09:00:00,1.45,,France',
        '4,21385,IVORY HANGING DECORATION  HEART,24,2011-08-03 09:31:00,0.85,,France',
      ].join('\n'),
    );
    const d = await readRetailCsv(file);
    expect(d.rows.dropped).toEqual({ cancelled: 1, quantity: 1, nonProduct: 1, duplicate: 1 });
    expect(d.baskets.map((b) => [b.id, b.items.sort(), b.user, b.segment])).toEqual([
      ['1', ['22075', '85123A'], '17850', 'GB'],
      ['4', ['21385'], undefined, 'FR'],
    ]);
    expect(d.baskets[0]!.ts).toBe(Date.UTC(2011, 7, 1, 8, 30));
    expect(d.items.get('22075')).toMatchObject({ category: 'christmas', tags: ['christmas'] });
    expect(retailCategory('WHITE HANGING HEART T-LIGHT HOLDER')).toBe('holder');
  });

  it('reads an interactions CSV with metadata', async () => {
    const file = join(dir, 'interactions.csv');
    await writeFile(
      file,
      'session,item,time,country,category,price,in_stock,tags\ns1,a,2026-01-01T00:00:00Z,fr,cat1,10,1,x;y\ns1,b,2026-01-01T00:00:00Z,fr,cat2,20,0,\ns2,a,2026-01-02T00:00:00Z,,cat1,12,1,\n',
    );
    const d = await readInteractionsCsv(file);
    expect(d.baskets.map((b) => [b.id, b.items, b.segment])).toEqual([
      ['s1', ['a', 'b'], 'FR'],
      ['s2', ['a'], undefined],
    ]);
    expect(d.items.get('a')).toMatchObject({ category: 'cat1', prices: [10, 12], inStock: true, tags: ['x', 'y'] });
    expect(d.items.get('b')!.inStock).toBe(false);
  });

  it('sessionizes the outcome log per visitor (gz too), skipping decisions and itemless events', async () => {
    const ev = (visitor: string, ts: number, name: string, items: string[]) =>
      JSON.stringify({
        type: 'outcome',
        v: 1,
        id: `${visitor}${ts}`,
        ts,
        receivedAt: ts,
        name,
        visitor,
        items: items.map((id) => ({ id, price: 5 })),
      });
    const t = Date.UTC(2026, 10, 1);
    const lines = [
      ev('v1', t, 'page', ['tent']),
      ev('v1', t + 60_000, 'add_to_cart', ['stove']),
      ev('v2', t, 'page', ['tent']),
      JSON.stringify({ type: 'decision', id: 'd1' }),
      ev('v1', t + 120_000, 'impression', []),
      'not json',
      ev('v1', t + 3 * 3600_000, 'purchase', ['mat']),
      ev('v2', t + 60_000, 'purchase', ['stove', 'mat']),
    ];
    const file = join(dir, 'log.ndjson.gz');
    await writeFile(file, gzipSync(lines.join('\n')));
    const d = await readOutcomeLog([file]);
    expect(d.baskets.map((b) => [b.user, b.items.sort()])).toEqual([
      ['v1', ['stove', 'tent']],
      ['v2', ['mat', 'stove', 'tent']],
      ['v1', ['mat']],
    ]);
    expect(d.rows.dropped).toEqual({ notJson: 1, noItems: 2, noVisitor: 0 });
  });

  it('cuts sessions in time order, whatever order the files hold the events in', async () => {
    const t = Date.UTC(2026, 10, 1);
    const ev = (id: string, ts: number, item: string) =>
      JSON.stringify({ type: 'outcome', v: 1, id, ts, receivedAt: ts, name: 'page', visitor: 'v1', items: [{ id: item }] });
    const a = join(dir, 'order-a.ndjson');
    const b = join(dir, 'order-b.ndjson');
    await writeFile(a, `${ev('e1', t + 3 * 3600_000, 'later')}\n`);
    await writeFile(b, `${ev('e2', t, 'first')}\n${ev('e3', t + 60_000, 'second')}\n`);
    expect((await readOutcomeLog([a, b])).baskets.map((x) => x.items.sort())).toEqual([['first', 'second'], ['later']]);
  });

  it("takes a session's popularity segment from the country the edge recorded on its first event", async () => {
    const t = Date.UTC(2026, 10, 1);
    const file = join(dir, 'log-country.ndjson');
    await writeFile(
      file,
      [
        { visitor: 'v1', ts: t, country: 'FR' },
        { visitor: 'v2', ts: t, props: { country: 'de' } },
        { visitor: 'v3', ts: t },
      ]
        .map((e) => JSON.stringify({ type: 'outcome', v: 1, id: e.visitor, receivedAt: t, name: 'page', items: [{ id: 'a' }], ...e }))
        .join('\n'),
    );
    expect((await readOutcomeLog([file])).baskets.map((b) => [b.user, b.segment])).toEqual([
      ['v1', 'FR'],
      ['v2', 'DE'],
      ['v3', undefined],
    ]);
  });

  it('reads a catalog CSV over what the baskets said, for sources without item metadata', async () => {
    const file = join(dir, 'catalog.csv');
    await writeFile(file, 'item,category,price,in_stock,tags\na,tents,120,1,sale\nb,,,0,\nc,stoves,30,,\n');
    const items = new Map([
      ['a', { category: 'old', prices: [5] }],
      ['b', { category: 'kept', prices: [7] }],
    ]);
    expect(await readCatalogCsv(file, items)).toBe(3);
    expect(items.get('a')).toEqual({ category: 'tents', prices: [120], inStock: true, tags: ['sale'] });
    expect(items.get('b')).toEqual({ category: 'kept', prices: [7], inStock: false });
    expect(items.get('c')).toEqual({ category: 'stoves', prices: [30] });
    await writeFile(file, 'sku,category\na,x\n');
    await expect(readCatalogCsv(file, items)).rejects.toThrow(/needs "item"/);
  });

  it('reads interaction times as ISO dates, Unix seconds or milliseconds', async () => {
    const file = join(dir, 'times.csv');
    const ms = Date.UTC(2026, 0, 2);
    await writeFile(file, `basket,item,time\ns1,a,2026-01-02T00:00:00Z\ns2,a,${ms / 1000}\ns3,a,${ms}\n`);
    expect((await readInteractionsCsv(file)).baskets.map((b) => b.ts)).toEqual([ms, ms, ms]);
  });
});

describe('build and compile', () => {
  it('learns the known neighbours from baskets and ships them in the blob and a small companion', () => {
    const baskets = [
      ['tent', 'stove', 'mat'],
      ['tent', 'mat'],
      ['tent', 'stove'],
      ['stove', 'gas'],
      ['stove', 'gas'],
      ['gas', 'stove', 'pot'],
      ['socks'],
      ['socks', 'boots'],
      ['boots', 'socks'],
      ['boots', 'laces'],
    ].map((items, i) => ({ id: `b${i}`, items, ts: i * 1000, segment: i < 5 ? 'GB' : 'FR' }));
    const built = build(baskets, new Map(), { k: 2, norm: 'cosine', alpha: 0.5, shrink: 0, minCount: 0 });
    const { model, companion } = compile(built, 'shop', 'v1');
    const m = decodeItemKnn(model.slice().buffer);
    if (!m.ok) throw new Error(m.reason);
    const top = (id: string) => neighboursOf(m.model, itemIndex(m.model, id)).map(([j]) => itemId(m.model, j));
    expect(top('gas')[0]).toBe('stove');
    expect(top('boots')[0]).toBe('socks');
    expect(new Set(top('tent'))).toEqual(new Set(['mat', 'stove']));
    const c = decodeItemKnn(companion.slice().buffer);
    if (!c.ok) throw new Error(c.reason);
    expect(c.model.name).toBe('shop-popular');
    expect(c.model.nbBytes.length).toBe(0);
    expect(itemId(c.model, c.model.popItems[0]!)).toBe('stove');
  });
});

describe('publishing', () => {
  function memory(): ModelStorage & { data: Map<string, Uint8Array | string> } {
    const data = new Map<string, Uint8Array | string>();
    return {
      data,
      getBytes: async (k) => {
        const v = data.get(k);
        return v instanceof Uint8Array ? v.slice().buffer : null;
      },
      getText: async (k) => {
        const v = data.get(k);
        return typeof v === 'string' ? v : null;
      },
      put: async (k, v) => {
        data.set(k, typeof v === 'string' ? v : v.slice());
      },
    };
  }

  it('publishes the companion, then the model, through the atomic path', async () => {
    const baskets = [
      ['a', 'b'],
      ['a', 'b', 'c'],
      ['c', 'd'],
    ].map((items, i) => ({ id: `b${i}`, items, ts: i }));
    const blobs = compile(build(baskets, new Map(), { k: 5, norm: 'cosine', alpha: 0.5, shrink: 0, minCount: 1 }), 'shop', 'v1');
    const store = memory();
    const results = await publishRecs(store, blobs);
    expect(results.map((r) => r.ok && `${r.name}@${r.version}`)).toEqual(['shop-popular@v1', 'shop@v1']);
    expect(JSON.parse(store.data.get(manifestKey('shop')) as string)).toMatchObject({ kind: 'itemknn', active: 'v1' });
    const again = await publishRecs(store, blobs);
    expect(again.every((r) => r.ok && r.unchanged)).toBe(true);
  });

  it('compiles the default models/recs.json (model + companion) with neighbours', async () => {
    const { readFile } = await import('node:fs/promises');
    const raw = JSON.parse(await readFile('models/recs.json', 'utf8'));
    const compiled = compileSources(raw, 'recs.json');
    expect(compiled.map((c) => c.name)).toEqual(['recs-popular', 'recs']);
    const m = decodeItemKnn(compiled[1]!.blob.slice().buffer);
    if (!m.ok) throw new Error(m.reason);
    const top = neighboursOf(m.model, itemIndex(m.model, 'stove-gas'))
      .slice(0, 3)
      .map(([j]) => itemId(m.model, j));
    // stove-gas is sold in the "cooking" and "ultralight" baskets: its neighbours come from those
    const companions = [
      'tent-ultralight',
      'mat-inflatable',
      'bag-3season',
      'mug-titanium',
      'water-filter',
      'gas-canister',
      'pot-set',
      'spork',
    ];
    expect(top.every((id) => companions.includes(id))).toBe(true);
    expect(compileSources(raw, 'recs.json')[1]!.version).toBe(compiled[1]!.version); // content-derived
    expect(() => compileSources({ ...raw, baskets: [{ items: ['nope'] }] }, 'x.json')).toThrow(/unknown item/);
  });

  it('derives a version from the compiled bytes, so a changed compiler never reuses a published version', () => {
    const blob = (version: string, extra: number) => ({ name: 'm', version, blob: new Uint8Array([...Buffer.from(version), extra]) });
    const [a] = contentVersioned((v) => [blob(v, 1)]);
    const [b] = contentVersioned((v) => [blob(v, 2)]); // the same source, another compiler's output
    expect(a!.version).toMatch(/^h[0-9a-f]{8}$/);
    expect(b!.version).not.toBe(a!.version);
    expect(contentVersioned((v) => [blob(v, 1)])[0]!.version).toBe(a!.version);
    expect(Buffer.from(a!.blob).toString('latin1')).toContain(a!.version);
  });
});

describe('metrics', () => {
  it('HR, recall and NDCG at k', () => {
    const s = emptySums();
    addCase(s, ['a', 'x', 'b'], new Set(['a', 'b']), 10);
    addCase(s, ['x', 'y'], new Set(['a']), 10);
    addCase(s, ['x'], new Set(), 10); // no relevant items: not a case
    const m = means(s);
    expect(m.cases).toBe(2);
    expect(m.hr).toBe(0.5);
    expect(m.recall).toBe(0.5);
    const dcg = 1 + 1 / Math.log2(4);
    expect(m.ndcg).toBeCloseTo(dcg / (1 + 1 / Math.log2(3)) / 2);
  });
});
