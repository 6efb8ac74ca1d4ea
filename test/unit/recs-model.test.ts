import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope, type Section } from '../../src/core/model-format.ts';
import { decodeItemKnn, itemId, itemIndex, type ItemKnnModel } from '../../src/core/recs/itemknn-model.ts';
import { encodeItemKnn, type ItemKnnInput } from '../../src/core/recs/itemknn-encode.ts';
import { createResult, DEFAULT_WEIGHTS, neighboursOf, ORIGIN, recommend, type RecsQuery } from '../../src/core/recs/recommend.ts';

/** 12 products in 3 categories; neighbours by hand. */
const IDS = ['shoe-1', 'shoe-2', 'shoe-3', 'sock-1', 'sock-2', 'sock-3', 'hat-1', 'hat-2', 'hat-3', 'bag-é', 'bag-2', 'lace-1'];
const CAT = ['shoes', 'shoes', 'shoes', 'socks', 'socks', 'socks', 'hats', 'hats', 'hats', 'bags', 'bags', 'shoes'];
const BAND = ['high', 'high', 'mid', 'low', 'low', 'low', 'mid', 'mid', 'high', 'high', 'mid', 'low'];
const ix = (id: string) => IDS.indexOf(id);
const nb = (pairs: Record<string, number>) => Object.entries(pairs).map(([id, s]) => [ix(id), s] as [number, number]);

function input(over: Partial<ItemKnnInput> = {}): ItemKnnInput {
  return {
    name: 'recs',
    version: 'v1',
    ids: IDS,
    k: 4,
    neighbours: IDS.map((id) => {
      switch (id) {
        case 'shoe-1':
          return nb({ 'sock-1': 0.9, 'sock-2': 0.7, 'shoe-2': 0.5, 'lace-1': 0.4, 'hat-1': 0.1 });
        case 'shoe-2':
          return nb({ 'sock-2': 0.8, 'shoe-1': 0.5, 'hat-2': 0.3 });
        case 'sock-1':
          return nb({ 'shoe-1': 0.9, 'sock-3': 0.6 });
        case 'hat-1':
          return nb({ 'hat-2': 0.5, 'bag-é': 0.45, 'shoe-1': 0.1 });
        default:
          return [];
      }
    }),
    category: CAT,
    priceBand: BAND,
    priceBands: ['low', 'mid', 'high'],
    inStock: IDS.map((id) => id !== 'sock-2'),
    tags: IDS.map((id) => (id.endsWith('-3') ? ['sale'] : id === 'bag-2' ? ['new', 'sale'] : [])),
    popularity: {
      '*': nb({ 'hat-3': 0.3, 'bag-2': 0.2, 'shoe-3': 0.1, 'sock-3': 0.05 }),
      FR: nb({ 'bag-é': 0.5, 'hat-1': 0.2 }),
    },
    ...over,
  };
}

function decode(blob: Uint8Array): ItemKnnModel {
  const r = decodeItemKnn(blob.slice().buffer);
  if (!r.ok) throw new Error(r.reason);
  return r.model;
}

const model = decode(encodeItemKnn(input()));
const out = createResult(50);

function query(
  q: Partial<Omit<RecsQuery, 'context' | 'history' | 'exclude'>> & { context?: string[]; history?: string[]; exclude?: string[] } = {},
): RecsQuery {
  const map = (l: string[] | undefined) => (l ?? []).map((id) => itemIndex(model, id));
  return {
    k: 5,
    excludeHistory: true,
    inStockOnly: false,
    categories: null,
    priceBands: null,
    maxPerCategory: 0,
    categoryBoost: null,
    tagBoosts: [],
    segment: 0,
    weights: DEFAULT_WEIGHTS,
    ...q,
    context: map(q.context),
    history: map(q.history),
    exclude: map(q.exclude),
  };
}

function run(q: RecsQuery): Array<{ id: string; origin: number; because: string | null; score: number }> {
  recommend(model, q, out);
  return Array.from({ length: out.count }, (_, i) => ({
    id: itemId(model, out.items[i]!),
    origin: out.origin[i]!,
    score: out.scores[i]!,
    because: out.because[i]! >= 0 ? itemId(model, out.because[i]!) : null,
  }));
}
const ids = (r: ReturnType<typeof run>) => r.map((x) => x.id);

describe('itemknn codec', () => {
  it('round-trips ids, metadata and neighbours (quantized within 1/255 of the row max)', () => {
    expect(model.n).toBe(IDS.length);
    expect(decodeEnvelope(encodeItemKnn(input()).slice().buffer).ok && model.meta.segments).toEqual(['*', 'FR']);
    for (const id of IDS) expect(itemId(model, itemIndex(model, id))).toBe(id);
    const s1 = itemIndex(model, 'shoe-1');
    const got = neighboursOf(model, s1).map(([j, s]) => [itemId(model, j), s] as const);
    expect(got.map(([id]) => id)).toEqual(['sock-1', 'sock-2', 'shoe-2', 'lace-1']); // k = 4 drops hat-1
    const want = [0.9, 0.7, 0.5, 0.4];
    got.forEach(([, s], i) => {
      expect(Math.abs(s - want[i]!)).toBeLessThanOrEqual(0.9 / 255 / 2 + 1e-7);
    });
    expect(model.meta.categories[model.category[s1]!]).toBe('shoes');
    expect(model.meta.priceBands[model.priceBand[itemIndex(model, 'sock-1')]!]).toBe('low');
  });

  it('unknown ids, and ids that differ only past ASCII, are -1', () => {
    expect(itemIndex(model, 'nope')).toBe(-1);
    expect(itemIndex(model, 'bag-e')).toBe(-1);
    expect(itemIndex(model, 'bag-é')).toBeGreaterThanOrEqual(0);
    expect(itemIndex(model, '')).toBe(-1);
  });

  it('is deterministic and rejects a wrong kind or broken sections', () => {
    expect(encodeItemKnn(input())).toEqual(encodeItemKnn(input()));
    expect(() => encodeItemKnn(input({ ids: [...IDS.slice(0, 11), 'shoe-1'] }))).toThrow(/unique/);
    const bad = decodeItemKnn(new ArrayBuffer(64));
    expect(bad.ok).toBe(false);
  });

  it('stays small: 20k items × 50 neighbours at about 3 bytes a neighbour', () => {
    const n = 20_000;
    const ids = Array.from({ length: n }, (_, i) => `p${i}`);
    let x = 7;
    const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const neighbours = ids.map(() => Array.from({ length: 50 }, () => [Math.floor(rnd() * n), rnd() + 0.01] as [number, number]));
    const blob = encodeItemKnn({ name: 'big', version: 'v1', ids, k: 50, neighbours, popularity: { '*': [[0, 1]] } });
    expect(blob.byteLength / (n * 50)).toBeLessThan(3.6);
    const m = decode(blob);
    expect(itemIndex(m, 'p12345')).toBeGreaterThanOrEqual(0);
  }, 30_000); // builds and encodes a million neighbours
});

describe('recommend', () => {
  it('product page: neighbours of the item on screen, best first, with the reason', () => {
    const r = run(query({ context: ['shoe-1'], k: 3 }));
    expect(ids(r)).toEqual(['sock-1', 'sock-2', 'shoe-2']);
    expect(r.every((x) => x.origin === ORIGIN.similar && x.because === 'shoe-1')).toBe(true);
    expect(out.similar).toBe(3);
  });

  it('cart: blends several items, never recommends what is in it', () => {
    const r = run(query({ context: ['shoe-1', 'shoe-2'], k: 4 }));
    expect(ids(r)[0]).toBe('sock-2'); // 0.7 + 0.8 beats sock-1's 0.9
    expect(r.find((x) => x.id === 'sock-2')!.because).toBe('shoe-2');
    expect(ids(r)).not.toContain('shoe-1');
    expect(ids(r)).not.toContain('shoe-2');
  });

  it('history is decayed by recency and excluded when seen', () => {
    const recentHat = run(query({ history: ['hat-1', 'shoe-1'], k: 2 }));
    expect(ids(recentHat)).toEqual(['sock-1', 'sock-2']); // shoe-1 row is stronger even at 0.85
    const onlyHat = run(query({ history: ['hat-1'], k: 2 }));
    expect(ids(onlyHat)).toEqual(['hat-2', 'bag-é']);
    const seen = run(query({ history: ['hat-1', 'hat-2'], k: 5 }));
    expect(ids(seen)).not.toContain('hat-2');
    const keep = run(query({ history: ['hat-1', 'hat-2'], k: 5, excludeHistory: false }));
    expect(ids(keep)).toContain('hat-2');
  });

  it('buy again: history items themselves score only when history is not excluded', () => {
    const weights = { ...DEFAULT_WEIGHTS, repeat: 2 };
    const again = run(query({ history: ['hat-1'], k: 2, excludeHistory: false, weights }));
    expect(again[0]).toMatchObject({ id: 'hat-1', origin: ORIGIN.repeat, because: null });
    expect(again[1]).toMatchObject({ id: 'hat-2', origin: ORIGIN.similar, because: 'hat-1' });
    expect(ids(run(query({ history: ['hat-1'], k: 2, excludeHistory: true, weights })))).toEqual(['hat-2', 'bag-é']);
    expect(ids(run(query({ history: ['hat-1'], exclude: ['hat-1'], k: 1, excludeHistory: false, weights })))).toEqual(['hat-2']);
  });

  it('empty or unknown history falls back to popularity, segment first', () => {
    const r = run(query({ history: ['nope'], k: 3 }));
    expect(ids(r)).toEqual(['hat-3', 'bag-2', 'shoe-3']);
    expect(r.every((x) => x.origin === ORIGIN.popularOverall && x.because === null)).toBe(true);
    const fr = run(query({ k: 3, segment: model.segmentIndex.get('FR')! }));
    expect(ids(fr)).toEqual(['bag-é', 'hat-1', 'hat-3']);
    expect(fr.map((x) => x.origin)).toEqual([ORIGIN.popularSegment, ORIGIN.popularSegment, ORIGIN.popularOverall]);
  });

  it('fills after neighbours run out, without repeats', () => {
    const r = run(query({ context: ['sock-1'], k: 5 }));
    expect(ids(r).slice(0, 2)).toEqual(['shoe-1', 'sock-3']);
    expect(new Set(ids(r)).size).toBe(5);
    expect(out.similar).toBe(2);
  });

  it('filters: in stock, category, price band, explicit exclusions', () => {
    expect(ids(run(query({ context: ['shoe-1'], inStockOnly: true, k: 2 })))).toEqual(['sock-1', 'shoe-2']);
    const socks = new Uint8Array(model.meta.categories.length);
    socks[model.categoryIndex.get('socks')!] = 1;
    const onlySocks = run(query({ context: ['shoe-1'], categories: socks, k: 4 }));
    expect(onlySocks.every((x) => x.id.startsWith('sock'))).toBe(true);
    expect(ids(onlySocks).slice(0, 2)).toEqual(['sock-1', 'sock-2']);
    const high = new Uint8Array(model.meta.priceBands.length);
    high[model.priceBandIndex.get('high')!] = 1;
    // only two high-band items are reachable: shoe-2 by neighbours, hat-3 by overall popularity
    expect(ids(run(query({ context: ['shoe-1'], priceBands: high, k: 3 })))).toEqual(['shoe-2', 'hat-3']);
    expect(ids(run(query({ context: ['shoe-1'], exclude: ['sock-1'], k: 1 })))).toEqual(['sock-2']);
  });

  it('diversity: at most n per category', () => {
    const r = run(query({ context: ['shoe-1', 'sock-1'], maxPerCategory: 1, k: 4 }));
    const cats = r.map((x) => CAT[ix(x.id)]);
    expect(new Set(cats).size).toBe(cats.length);
    expect(ids(r)[0]).toBe('sock-2');
  });

  it('boosts by category and tag reorder', () => {
    const boost = new Float32Array(model.meta.categories.length).fill(1);
    boost[model.categoryIndex.get('shoes')!] = 3;
    expect(ids(run(query({ context: ['shoe-1'], categoryBoost: boost, k: 2 })))).toEqual(['shoe-2', 'lace-1']);
    const sale = 1 << model.meta.tags.indexOf('sale');
    expect(ids(run(query({ k: 2, tagBoosts: [{ mask: sale, factor: 10 }] })))).toEqual(['hat-3', 'bag-2']);
    expect(ids(run(query({ k: 1, tagBoosts: [{ mask: 1 << model.meta.tags.indexOf('new'), factor: 10 }] })))).toEqual(['bag-2']);
  });

  it('a category cap that skips more than the first pass kept falls back to the full heap', () => {
    // hub's 12 best neighbours are all in category A; the 13th and 14th are in B and C.
    const ids = ['hub', ...Array.from({ length: 12 }, (_, i) => `a${i}`), 'b0', 'c0'];
    const blob = encodeItemKnn({
      name: 'cap',
      version: 'v1',
      ids,
      k: 20,
      popularity: { '*': [] },
      neighbours: [ids.slice(1).map((_, i) => [i + 1, 1 - i * 0.01] as [number, number])],
      category: ids.map((id) => id[0]!.toUpperCase()),
    });
    const m = decode(blob);
    const res = createResult(3);
    const q3 = { ...query(), context: [itemIndex(m, 'hub')], history: [], exclude: [], k: 3, maxPerCategory: 1 };
    recommend(m, q3, res);
    expect(Array.from(res.items.subarray(0, res.count)).map((i) => itemId(m, i))).toEqual(['a0', 'b0', 'c0']);
    expect(Array.from(res.because.subarray(0, res.count)).map((i) => itemId(m, i))).toEqual(['hub', 'hub', 'hub']);
    recommend(m, { ...q3, maxPerCategory: 0 }, res); // and no state was left behind
    expect(Array.from(res.items.subarray(0, res.count)).map((i) => itemId(m, i))).toEqual(['a0', 'a1', 'a2']);
  });

  it('never writes past the result capacity', () => {
    const small = createResult(2);
    recommend(model, query({ context: ['shoe-1'], k: 10 }), small);
    expect(small.count).toBe(2);
    expect(Array.from(small.items).map((i) => itemId(model, i))).toEqual(['sock-1', 'sock-2']);
  });

  it('leaves no state behind between calls', () => {
    const a = JSON.stringify(run(query({ context: ['shoe-1', 'hat-1'], maxPerCategory: 1, k: 6 })));
    run(query({ history: ['sock-1'], exclude: ['hat-3'], inStockOnly: true, k: 8 }));
    expect(JSON.stringify(run(query({ context: ['shoe-1', 'hat-1'], maxPerCategory: 1, k: 6 })))).toBe(a);
  });

  it('leaves no state behind across the scratch epoch wrapping around (every 255 calls)', () => {
    // Table keys carry the call's 8-bit epoch instead of being cleared. Items only the first
    // call touched keep its epoch until the epoch comes round again: the wrap must clear them,
    // or the same call then reads them as already blended.
    const m = decode(encodeItemKnn(input({ name: 'wrap' }))); // its own scratch, at epoch 0
    const res = createResult(50);
    const ask = (q: RecsQuery) => {
      recommend(m, q, res);
      return JSON.stringify([Array.from(res.items.subarray(0, res.count)), Array.from(res.scores.subarray(0, res.count))]);
    };
    const first = { ...query(), context: [itemIndex(m, 'shoe-1')], history: [], exclude: [], k: 3 };
    const other = { ...query(), context: [itemIndex(m, 'shoe-2')], history: [], exclude: [], k: 1 };
    const wantFirst = ask(first); // epoch 1: sock-1, lace-1 and hat-1 are touched by this call only
    const wantOther = ask(other);
    for (let call = 3; call <= 255; call++) if (ask(other) !== wantOther) throw new Error(`call ${call} differs`);
    expect(ask(first)).toBe(wantFirst); // the epoch wrapped: this call is epoch 1 again
    expect(ask(other)).toBe(wantOther);
  });

  /** The blob of `input()` with sections replaced, re-encoded with a valid checksum: what a crafted model looks like. */
  function crafted(replace: Record<string, Section>, over: Partial<ItemKnnInput> = {}): ArrayBuffer {
    const env = decodeEnvelope(encodeItemKnn(input(over)).slice().buffer);
    if (!env.ok) throw new Error(env.reason);
    const e = env.envelope;
    return encodeEnvelope({
      kind: 'itemknn',
      name: e.name,
      version: e.version,
      featureSpecHash: 0,
      meta: e.meta,
      sections: [...e.sections].map(([tag, data]) => [tag, replace[tag] ?? data] as const),
    }).slice().buffer;
  }

  it('refuses crafted models whose popularity offsets run backwards, or whose scores are not finite', () => {
    const over = { popularity: { '*': nb({ 'hat-3': 0.3, 'bag-2': 0.2 }), FR: nb({ 'bag-é': 0.5 }) } };
    expect(decodeItemKnn(crafted({ POFF: Uint32Array.from([0, 2, 0]) }, over)).ok).toBe(false); // FR would end before it starts
    expect(decodeItemKnn(crafted({ POFF: Uint32Array.from([1, 2, 3]) }, over)).ok).toBe(false);
    expect(decodeItemKnn(crafted({ PSCR: Float32Array.from([0.3, Number.NaN, 0.5]) }, over)).ok).toBe(false);
    expect(decodeItemKnn(crafted({ NSCL: new Float32Array(IDS.length).fill(Number.POSITIVE_INFINITY) })).ok).toBe(false);
    expect(decodeItemKnn(crafted({}, over)).ok).toBe(true);
  });

  it('stops at whatever a crafted neighbour row holds instead of looping or leaving state behind', () => {
    // every row the same broken bytes: a 5-byte varint (a negative index once shifted), a
    // one-byte torn neighbour, a gap past the catalogue
    const rows = [[0x80, 0x80, 0x80, 0x80, 0x7f, 5], [1], [0x7f, 0x7f, 9]];
    for (const row of rows) {
      const n = IDS.length;
      const nbBytes = Uint8Array.from(Array.from({ length: n }, () => row).flat());
      const nbOffsets = Uint32Array.from({ length: n + 1 }, (_, i) => i * row.length);
      const r = decodeItemKnn(crafted({ NBRS: nbBytes, NOFF: nbOffsets }));
      if (!r.ok) throw new Error(r.reason);
      const m = r.model;
      const res = createResult(20);
      const ask = () => {
        recommend(m, { ...query(), context: [5], history: [6, 7, 8], exclude: [], k: 20 }, res);
        return Array.from(res.items.subarray(0, res.count));
      };
      const first = ask();
      expect(res.similar).toBe(0); // no row holds one valid neighbour: all from popularity
      for (const v of res.scores.subarray(0, res.count)) expect(Number.isFinite(v)).toBe(true);
      expect(new Set(first).size).toBe(first.length);
      for (const j of first) expect(j >= 0 && j < n).toBe(true);
      for (let call = 0; call < 300; call++) expect(ask()).toEqual(first); // through the epoch wrapping
    }
  });

  it('equals a plain Map-and-sort implementation on 3,000 random queries (filters, boosts, caps, repeats, fills)', () => {
    let seed = 7;
    const rnd = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const int = (n: number) => Math.floor(rnd() * n);
    const N = 2_000;
    const ids = Array.from({ length: N }, (_, i) => `p${i}`);
    const pop = () => [...new Set(Array.from({ length: 60 }, () => int(N)))].map((j, r) => [j, 1 / (r + 2)] as [number, number]);
    const m = decode(
      encodeItemKnn({
        name: 'random',
        version: 'v1',
        ids,
        k: 25,
        // some rows empty, scores with ties (a few levels), neighbours anywhere
        neighbours: ids.map(() =>
          rnd() < 0.1 ? [] : Array.from({ length: 1 + int(25) }, () => [int(N), (1 + int(8)) / 8] as [number, number]),
        ),
        // some items without a category: the per-category cap does not apply to them
        category: ids.map(() => (rnd() < 0.15 ? undefined : `c${int(8)}`)),
        priceBand: ids.map(() => ['low', 'mid', 'high'][int(3)]),
        priceBands: ['low', 'mid', 'high'],
        inStock: ids.map(() => rnd() < 0.8),
        tags: ids.map(() => (rnd() < 0.3 ? ['sale'] : rnd() < 0.2 ? ['new'] : [])),
        popularity: { '*': pop(), DE: pop(), FR: pop() },
      }),
    );
    const C = m.meta.categories.length;
    const rows = (src: number): Array<[number, number]> => {
      // (item, stored byte) in row order, to add exactly what `recommend` adds
      const unit = m.rowScale[src]! / 255;
      return neighboursOf(m, src)
        .map(([j, v]) => [j, Math.round(v / unit)] as [number, number])
        .sort((a, b) => a[0] - b[0]);
    };
    const reference = (q: RecsQuery, cap: number) => {
      const valid = (j: number) => j >= 0 && j < N;
      const excluded = new Set([...q.context, ...q.exclude, ...(q.excludeHistory ? q.history : [])].filter(valid));
      const sum = new Map<number, number>();
      const best = new Map<number, [number, number]>();
      const add = (j: number, v: number, src: number) => {
        if (excluded.has(j)) return;
        sum.set(j, sum.has(j) ? sum.get(j)! + v : v);
        const b = best.get(j) ?? [0, -1];
        best.set(j, v > b[0] ? [v, src] : b);
      };
      const blend = (src: number, w: number) => {
        const unit = (m.rowScale[src]! / 255) * w;
        for (const [j, byte] of rows(src)) add(j, byte * unit, src);
      };
      for (const c of q.context) if (valid(c)) blend(c, q.weights.context);
      let w = q.weights.history;
      for (const h of q.history) {
        if (!valid(h)) continue;
        blend(h, w);
        if (!q.excludeHistory && q.weights.repeat > 0) add(h, w * q.weights.repeat, h);
        w *= q.weights.decay;
      }
      const passes = (j: number) =>
        (!q.inStockOnly || (m.flags[j]! & 1) === 1) &&
        (q.priceBands === null || q.priceBands[m.priceBand[j]!] === 1) &&
        (q.categories === null || q.categories[m.category[j]!] === 1);
      const boost = (j: number) =>
        q.tagBoosts.reduce(
          (f, t) => ((m.tags[j]! & t.mask) !== 0 ? f * t.factor : f),
          q.categoryBoost === null ? 1 : q.categoryBoost[m.category[j]!]!,
        );
      const k = Math.min(q.k, cap);
      const got: Array<[number, number, number, number]> = []; // item, score, origin, because
      const perCat = new Map<number, number>();
      const pick = (cands: Array<[number, number]>, origin: (j: number) => [number, number]) => {
        cands.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
        for (const [j, v] of cands) {
          if (got.length >= k) return;
          const c = m.category[j]!;
          if (q.maxPerCategory > 0 && c !== 0 && (perCat.get(c) ?? 0) >= q.maxPerCategory) continue; // 0: no category
          perCat.set(c, (perCat.get(c) ?? 0) + 1);
          got.push([j, v, ...origin(j)]);
        }
      };
      pick(
        [...sum].filter(([j]) => passes(j)).map(([j, v]) => [j, v * boost(j)]),
        (j) => {
          const src = best.get(j)![1];
          return src === j ? [ORIGIN.repeat, -1] : [ORIGIN.similar, src];
        },
      );
      const seen = new Set([...excluded, ...sum.keys()]);
      const fill = (list: number, origin: number) => {
        const cands: Array<[number, number]> = [];
        for (let p = m.popOffsets[list]!; p < m.popOffsets[list + 1]!; p++) {
          const j = m.popItems[p]!;
          if (seen.has(j) || !passes(j)) continue;
          seen.add(j);
          cands.push([j, m.popScores[p]! * boost(j)]);
        }
        pick(cands, () => [origin, -1]);
      };
      if (got.length < k && q.segment > 0 && q.segment < m.meta.segments.length) fill(q.segment, ORIGIN.popularSegment);
      if (got.length < k) fill(0, ORIGIN.popularOverall);
      return got;
    };
    const res = createResult(30);
    for (let trial = 0; trial < 3_000; trial++) {
      const list = (n: number) => Array.from({ length: n }, () => (rnd() < 0.05 ? -1 : int(N)));
      const mask = (n: number) => (rnd() < 0.6 ? null : Uint8Array.from({ length: n }, () => (rnd() < 0.6 ? 1 : 0)));
      const q: RecsQuery = {
        context: list(int(4)),
        // now and then far more history than the scratch table started with, so it grows
        history: list(trial % 500 === 0 ? 400 : int(30)),
        exclude: list(int(5)),
        excludeHistory: rnd() < 0.5,
        k: 1 + int(30),
        inStockOnly: rnd() < 0.5,
        categories: mask(C),
        priceBands: mask(3),
        maxPerCategory: rnd() < 0.5 ? 0 : 1 + int(3),
        categoryBoost: rnd() < 0.8 ? null : Float32Array.from({ length: C }, () => 0.5 + rnd() * 2),
        tagBoosts: rnd() < 0.8 ? [] : [{ mask: 1 << m.meta.tags.indexOf('sale'), factor: 3 }],
        segment: int(3),
        weights: { ...DEFAULT_WEIGHTS, repeat: rnd() < 0.5 ? 0 : 1 },
      };
      recommend(m, q, res);
      const got = Array.from({ length: res.count }, (_, i) => [res.items[i]!, res.scores[i]!, res.origin[i]!, res.because[i]!]);
      const want = reference(q, res.items.length);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        expect({ trial, got }).toEqual({ trial, got: want });
      }
      expect(res.similar).toBe(want.filter((r) => r[2] === ORIGIN.similar || r[2] === ORIGIN.repeat).length);
    }
  }, 30_000); // 3,000 queries against the reference
});
