/**
 * The model envelope's checksum, in plain JavaScript and with a WebAssembly SIMD kernel that
 * gives the same number several times faster (bench:cold, docs/performance.md).
 *
 * The checksum is two interleaved polynomial hashes over 32-bit words: h0 = h0·31 + w over
 * the even words, h1 = h1·37 + w over the odd ones, mod 2^32. Not cryptographic: it catches
 * truncation and corruption in storage or transit. Every single bit flip changes it (odd
 * multipliers are invertible mod 2^32). In JavaScript it runs close to a bare XOR over the same
 * words, so no cleverer scalar loop is left to find. A new isolate verifies every model it
 * loads, so for large models that was most of the cold load.
 *
 * The kernel (checksum.wat) computes the same polynomials in 16 lanes: each lane is the
 * polynomial of every eighth word of one sequence, with multiplier 31^8 or 37^8. Lane r of
 * a sequence (r = 0…7) then weighs 31^(7−r) (or 37^(7−r)) in the combined value, exactly, as
 * all of it is arithmetic mod 2^32; the last few words that do not fill 64 bytes continue the
 * scalar Horner loop. The kernel only sees its own memory, so the words are copied in 8 KiB
 * chunks, which stay in the L1 cache; the copy is most of its time.
 *
 * This file does not load WebAssembly itself: the Worker imports the compiled module and Node
 * tools read the file (`src/train/checksum-kernel.ts`); both hand over the instance's exports.
 */

export type Checksum = (words: Int32Array) => number;

/** The exports of checksum.wat's instance. */
export interface ChecksumKernel {
  readonly memory: { readonly buffer: ArrayBuffer };
  fold(byteLength: number): void;
}

const MIX = 0x9e3779b1;

/** The reference: plain JavaScript, two lanes (four were slower, as were Fletcher-style sums). */
export function checksum(words: Int32Array): number {
  let h0 = 0;
  let h1 = 0;
  const n = words.length & ~1;
  let i = 0;
  for (; i < n; i += 2) {
    h0 = (Math.imul(h0, 31) + words[i]!) | 0;
    h1 = (Math.imul(h1, 37) + words[i + 1]!) | 0;
  }
  if (i < words.length) h0 = (Math.imul(h0, 31) + words[i]!) | 0;
  return (h0 ^ Math.imul(h1, MIX)) >>> 0;
}

const STATE_BYTES = 64; // four i32x4 accumulators at the start of the kernel's memory
const CHUNK = 8192; // small enough to stay in L1 while the kernel folds it, large enough to amortize each call
const VECTOR_GROUP = 64; // bytes per loop step of the kernel

function powers(base: number): Int32Array {
  const out = new Int32Array(8);
  let x = 1;
  for (let r = 7; r >= 0; r--) {
    out[r] = x;
    x = Math.imul(x, base);
  }
  return out;
}
const EVEN_WEIGHTS = powers(31); // lane r of the even sequence weighs 31^(7 − r)
const ODD_WEIGHTS = powers(37);

/**
 * A known answer for the kernel to reproduce before it is used: words that cross a chunk
 * boundary, fill a 64-byte group after it and leave an odd tail, so every path of the kernel
 * wrapper runs. Mostly zeros: a start-up runs this before the JIT has compiled anything, and
 * running the reference over a few thousand words there would cost a millisecond.
 * test/unit/checksum.test.ts checks `SELF_CHECK_SUM` against the reference.
 */
export function selfCheckWords(): Int32Array {
  const words = new Int32Array(CHUNK / 4 + 16 + 11);
  for (const at of [0, 1, 2, 3, 4, 7, 100, CHUNK / 4 - 1, CHUNK / 4, CHUNK / 4 + 1, CHUNK / 4 + 15, words.length - 2, words.length - 1]) {
    words[at] = Math.imul(at + 1, 0x9e3779b1);
  }
  return words;
}
export const SELF_CHECK_SUM = 2826086168;

/**
 * A checksum that builds its implementation on the first call, so an isolate that loads no
 * model never instantiates the kernel. Should `load` throw, `fallback` says what to use instead
 * (and may report why); either way the choice is made once.
 */
export function lazyChecksum(load: () => Checksum, fallback: (err: unknown) => Checksum): Checksum {
  let fn: Checksum | undefined;
  return (words) => {
    if (fn === undefined) {
      try {
        fn = load();
      } catch (err) {
        fn = fallback(err);
      }
    }
    return fn(words);
  };
}

/**
 * `checksum` computed by the kernel. Before it is returned it must give the reference's number
 * for the empty input and the known answer `SELF_CHECK_SUM`; otherwise it throws, so a caller
 * can keep the reference.
 */
export function kernelChecksum(kernel: ChecksumKernel): Checksum {
  const memory = new Uint8Array(kernel.memory.buffer);
  const state = new Int32Array(kernel.memory.buffer, 0, 16);
  if (memory.length < STATE_BYTES + CHUNK) throw new RangeError('checksum kernel memory is too small');

  const run: Checksum = (words) => {
    state.fill(0);
    const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
    const vectorBytes = bytes.length - (bytes.length % VECTOR_GROUP);
    for (let at = 0; at < vectorBytes; at += CHUNK) {
      const length = Math.min(CHUNK, vectorBytes - at);
      memory.set(bytes.subarray(at, at + length), STATE_BYTES);
      kernel.fold(length);
    }
    // Accumulator u, word lane l holds sequence (l & 1) at lane r = 2u + (l >> 1).
    let h0 = 0;
    let h1 = 0;
    for (let u = 0; u < 4; u++) {
      h0 = (h0 + Math.imul(state[4 * u]!, EVEN_WEIGHTS[2 * u]!) + Math.imul(state[4 * u + 2]!, EVEN_WEIGHTS[2 * u + 1]!)) | 0;
      h1 = (h1 + Math.imul(state[4 * u + 1]!, ODD_WEIGHTS[2 * u]!) + Math.imul(state[4 * u + 3]!, ODD_WEIGHTS[2 * u + 1]!)) | 0;
    }
    // The tail starts on an even word (64 bytes is 16 words), so the sequences continue as they were.
    const n = words.length;
    for (let i = vectorBytes >> 2; i < n; i += 2) {
      h0 = (Math.imul(h0, 31) + words[i]!) | 0;
      if (i + 1 < n) h1 = (Math.imul(h1, 37) + words[i + 1]!) | 0;
    }
    return (h0 ^ Math.imul(h1, MIX)) >>> 0;
  };

  if (run(new Int32Array(0)) !== checksum(new Int32Array(0)) || run(selfCheckWords()) !== SELF_CHECK_SUM) {
    throw new Error('checksum kernel disagrees with the reference');
  }
  return run;
}
