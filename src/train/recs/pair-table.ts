/**
 * Weighted item-pair counts in an open-addressing hash table over typed arrays: the trainer adds
 * one entry per pair of every basket (11M adds on the retail file once big baskets count all
 * their pairs), and a `Map` keyed by `lo · 2^22 + hi` spent most of that time hashing doubles
 * that are not small integers, at several times the memory. Reads look like a Map's: `get` by
 * that key, `size`, and iteration of [key, weight].
 */

export const PAIR_STRIDE = 2 ** 22; // up to 4M items; keys stay exact doubles

export interface PairTable extends Iterable<[number, number]> {
  /** adds `w` to the pair (lo, hi), lo < hi < PAIR_STRIDE */
  add(lo: number, hi: number, w: number): void;
  get(key: number): number | undefined;
  readonly size: number;
}

const hashOf = (lo: number, hi: number): number => {
  let h = Math.imul(lo, 0x9e3779b1) ^ hi;
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
};

export function createPairTable(): PairTable {
  let bits = 16;
  let mask = (1 << bits) - 1;
  // lo + 1 (0: an empty bucket), hi, weight
  let los = new Int32Array(1 << bits);
  let his = new Int32Array(1 << bits);
  let ws = new Float64Array(1 << bits);
  let size = 0;

  const find = (lo: number, hi: number): number => {
    let b = hashOf(lo, hi) & mask;
    for (;;) {
      const l = los[b]!;
      if (l === 0 || (l === lo + 1 && his[b] === hi)) return b;
      b = (b + 1) & mask;
    }
  };
  const grow = () => {
    const [ol, oh, ow] = [los, his, ws];
    bits++;
    mask = (1 << bits) - 1;
    los = new Int32Array(1 << bits);
    his = new Int32Array(1 << bits);
    ws = new Float64Array(1 << bits);
    for (let i = 0; i < ol.length; i++) {
      if (ol[i] === 0) continue;
      const b = find(ol[i]! - 1, oh[i]!);
      los[b] = ol[i]!;
      his[b] = oh[i]!;
      ws[b] = ow[i]!;
    }
  };
  return {
    add(lo, hi, w) {
      const b = find(lo, hi);
      if (los[b] !== 0) {
        ws[b]! += w;
        return;
      }
      los[b] = lo + 1;
      his[b] = hi;
      ws[b] = w;
      if (++size * 2 > mask) grow(); // at most half full
    },
    get(key) {
      const lo = Math.floor(key / PAIR_STRIDE);
      const b = find(lo, key - lo * PAIR_STRIDE);
      return los[b] === 0 ? undefined : ws[b];
    },
    get size() {
      return size;
    },
    *[Symbol.iterator]() {
      for (let i = 0; i < los.length; i++) if (los[i] !== 0) yield [(los[i]! - 1) * PAIR_STRIDE + his[i]!, ws[i]!];
    },
  };
}
