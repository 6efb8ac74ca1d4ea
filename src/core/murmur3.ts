/**
 * MurmurHash3, x86 32-bit variant.
 *
 * `murmur3(key, seed)` equals the `murmurhash` package's `v3(key, seed)`, which hashes the
 * UTF-8 bytes of `key` (it runs a TextEncoder first). We feed the UTF-8 bytes straight from
 * `charCodeAt` into the 4-byte block instead, so hashing a feature value allocates nothing.
 * Lone surrogates become U+FFFD, as TextEncoder does. Shared vectors: test/unit/murmur3.test.ts.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK1(k1: number): number {
  k1 = Math.imul(k1, C1);
  k1 = (k1 << 15) | (k1 >>> 17);
  return Math.imul(k1, C2);
}

function mixH1(h1: number, k1: number): number {
  h1 ^= mixK1(k1);
  h1 = (h1 << 13) | (h1 >>> 19);
  return (Math.imul(h1, 5) + 0xe6546b64) | 0;
}

function fmix(h1: number, length: number): number {
  h1 ^= length;
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h1 = Math.imul(h1, 0xc2b2ae35);
  h1 ^= h1 >>> 16;
  return h1 >>> 0;
}

/** Hash of the UTF-8 encoding of `key`, as an unsigned 32-bit integer. */
export function murmur3(key: string, seed: number): number {
  let h1 = seed | 0;
  let k1 = 0; // bytes of the block being filled, little-endian
  let shift = 0; // bit position of the next byte in k1
  let length = 0; // bytes consumed
  const n = key.length;
  let i = 0;
  // Fast path: whole 4-char blocks of ASCII go straight into the mixer (most feature values).
  for (; i + 4 <= n; i += 4) {
    const c0 = key.charCodeAt(i);
    const c1 = key.charCodeAt(i + 1);
    const c2 = key.charCodeAt(i + 2);
    const c3 = key.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) >= 0x80) break;
    h1 = mixH1(h1, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  length = i;
  for (; i < n; i++) {
    let c = key.charCodeAt(i);
    let bytes: number; // up to 4 UTF-8 bytes packed little-endian, count in `count`
    let count: number;
    if (c < 0x80) {
      // Fast path: one ASCII byte, by far the common case for feature values.
      k1 |= c << shift;
      length++;
      if (shift === 24) {
        h1 = mixH1(h1, k1);
        k1 = 0;
        shift = 0;
      } else shift += 8;
      continue;
    }
    if (c < 0x800) {
      bytes = 0xc0 | (c >> 6) | ((0x80 | (c & 0x3f)) << 8);
      count = 2;
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < n ? key.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
        } else c = 0xfffd;
      }
      if (c < 0x10000) {
        bytes = 0xe0 | (c >> 12) | ((0x80 | ((c >> 6) & 0x3f)) << 8) | ((0x80 | (c & 0x3f)) << 16);
        count = 3;
      } else {
        bytes = 0xf0 | (c >> 18) | ((0x80 | ((c >> 12) & 0x3f)) << 8) | ((0x80 | ((c >> 6) & 0x3f)) << 16) | ((0x80 | (c & 0x3f)) << 24);
        count = 4;
      }
    }
    for (let b = 0; b < count; b++) {
      k1 |= ((bytes >>> (b * 8)) & 0xff) << shift;
      length++;
      if (shift === 24) {
        h1 = mixH1(h1, k1);
        k1 = 0;
        shift = 0;
      } else shift += 8;
    }
  }
  if (shift !== 0) h1 ^= mixK1(k1);
  return fmix(h1, length);
}

/** Hash of a byte array; equals `murmurhash.v3(bytes, seed)`. */
export function murmur3Bytes(key: Uint8Array, seed: number): number {
  let h1 = seed | 0;
  const n = key.length;
  const blocks = n & ~3;
  let i = 0;
  for (; i < blocks; i += 4) {
    h1 = mixH1(h1, key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24));
  }
  const tail = n & 3; // the last 1 to 3 bytes, mixed as one little-endian word
  if (tail !== 0) {
    let k1 = key[i]!;
    if (tail > 1) k1 ^= key[i + 1]! << 8;
    if (tail > 2) k1 ^= key[i + 2]! << 16;
    h1 ^= mixK1(k1);
  }
  return fmix(h1, n);
}

/**
 * Hash of one 32-bit integer (its 4 little-endian bytes); equals
 * `murmurhash.v3(new Uint8Array(Uint32Array.of(x).buffer), seed)`. Used to cross two already
 * hashed features, or to hash a bucketed number, without building a string.
 */
export function murmur3Int(x: number, seed: number): number {
  return fmix(mixH1(seed | 0, x | 0), 4);
}
