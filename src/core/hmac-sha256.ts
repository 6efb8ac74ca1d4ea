/**
 * HMAC-SHA256 (RFC 2104, FIPS 180-4), synchronous, for the bid path's notice signatures.
 *
 * Why not WebCrypto: a bid response signs every bid's notice URLs, and `crypto.subtle.sign` is
 * one promise per call, and a bid's signatures would then cost a large share of its whole time
 * budget (bench:bidder measures the bid path). Here the key's
 * inner and outer states are computed once per secret, so a signature of a notice query (under
 * 120 bytes) is two or three compressions with no allocation. The numbers are WebCrypto's: a
 * unit test compares them on random keys and messages of every length around the block sizes.
 */
import { utf8Encode } from './utf8.ts';

const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
  0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
  0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
  0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
  0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
  0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const H0 = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const w = new Int32Array(64); // the message schedule, reused (a call never yields)

/** One SHA-256 compression of the 64 bytes of `block` at `at` into `h`. */
function compress(h: Int32Array, block: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++, at += 4) w[i] = (block[at]! << 24) | (block[at + 1]! << 16) | (block[at + 2]! << 8) | block[at + 3]!;
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15]!;
    const y = w[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = h[0]!,
    b = h[1]!,
    c = h[2]!,
    d = h[3]!,
    e = h[4]!,
    f = h[5]!,
    g = h[6]!,
    k = h[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (k + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    k = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
  h[5] = (h[5]! + f) | 0;
  h[6] = (h[6]! + g) | 0;
  h[7] = (h[7]! + k) | 0;
}

let buf = new Uint8Array(256); // the padded message, reused and grown as needed

/**
 * SHA-256 of `n` bytes of `msg`, continuing from `state` after `before` bytes (0, or 64 for an
 * HMAC's keyed state), into `out` (8 words). `state` is not changed.
 */
function hashFrom(state: Int32Array, before: number, msg: Uint8Array, n: number, out: Int32Array): void {
  const padded = ((n + 9 + 63) >>> 6) << 6;
  if (buf.length < padded) buf = new Uint8Array(padded * 2);
  buf.set(msg.subarray(0, n));
  buf.fill(0, n, padded);
  buf[n] = 0x80;
  const bits = (before + n) * 8; // messages here are far below 2^32 bits
  buf[padded - 4] = bits >>> 24;
  buf[padded - 3] = bits >>> 16;
  buf[padded - 2] = bits >>> 8;
  buf[padded - 1] = bits;
  out.set(state);
  for (let at = 0; at < padded; at += 64) compress(out, buf, at);
}

/** A secret's HMAC key, as the states after its inner and outer pad blocks. */
export interface HmacKey {
  readonly inner: Int32Array;
  readonly outer: Int32Array;
}

export function hmacKey(secret: string | Uint8Array): HmacKey {
  let key = typeof secret === 'string' ? utf8Encode(secret) : secret;
  if (key.length > 64) {
    const h = new Int32Array(8);
    hashFrom(H0, 0, key, key.length, h);
    key = wordsToBytes(h);
  }
  const pad = new Uint8Array(64);
  const state = (x: number) => {
    for (let i = 0; i < 64; i++) pad[i] = (key[i] ?? 0) ^ x;
    const h = Int32Array.from(H0);
    compress(h, pad, 0);
    return h;
  };
  return { inner: state(0x36), outer: state(0x5c) };
}

const innerHash = new Int32Array(8);
const innerBytes = new Uint8Array(32);
const outerHash = new Int32Array(8);
let text = new Uint8Array(256);

/** HMAC-SHA256 of `message` (UTF-8) under `key`: 32 bytes, written into `out`. */
export function hmacSha256(key: HmacKey, message: string, out: Uint8Array = new Uint8Array(32)): Uint8Array {
  // ASCII (notice queries are strictly encoded) is copied as is; anything else through UTF-8
  let n = message.length;
  let ascii = true;
  if (text.length < n) text = new Uint8Array(n * 2);
  for (let i = 0; i < n; i++) {
    const c = message.charCodeAt(i);
    if (c > 0x7f) {
      ascii = false;
      break;
    }
    text[i] = c;
  }
  let bytes: Uint8Array = text;
  if (!ascii) {
    bytes = utf8Encode(message);
    n = bytes.length;
  }
  hashFrom(key.inner, 64, bytes, n, innerHash);
  hashFrom(key.outer, 64, wordsToBytes(innerHash, innerBytes), 32, outerHash);
  return wordsToBytes(outerHash, out);
}

/** The 8 words of a hash, big-endian, into `out` (32 bytes). */
function wordsToBytes(h: Int32Array, out: Uint8Array = new Uint8Array(32)): Uint8Array {
  for (let i = 0; i < 8; i++) {
    const v = h[i]!;
    out[4 * i] = v >>> 24;
    out[4 * i + 1] = v >>> 16;
    out[4 * i + 2] = v >>> 8;
    out[4 * i + 3] = v;
  }
  return out;
}
