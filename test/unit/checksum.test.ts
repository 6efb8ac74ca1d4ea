import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { compileWat } from '../../scripts/build-wasm.ts';
import { checksum, kernelChecksum, lazyChecksum, SELF_CHECK_SUM, selfCheckWords, type ChecksumKernel } from '../../src/core/checksum.ts';
import { decodeEnvelope, encodeEnvelope, useChecksum } from '../../src/core/model-format.ts';
import { loadKernelChecksum } from '../../src/train/checksum-kernel.ts';

const kernel = loadKernelChecksum();

let seed = 11;
const rnd = () => (seed = (Math.imul(seed, 1664525) + 1013904223) | 0);

/** `length` random words at `offset` bytes into a larger buffer, as envelope payloads sit at byte 24. */
function words(length: number, offset = 24): Int32Array {
  const out = new Int32Array(new ArrayBuffer(offset + 4 * length + 16), offset, length);
  for (let i = 0; i < length; i++) out[i] = rnd();
  return out;
}

describe('checksum kernel', () => {
  afterEach(() => useChecksum(checksum));

  it('gives the reference number on every length around its 64-byte groups and 8 KiB chunks', () => {
    const lengths = [0, 1, 2, 3, 14, 15, 16, 17, 31, 32, 33, 2047, 2048, 2049, 2064, 4096 + 30, 50_001];
    for (let n = 0; n < 200; n++) lengths.push(Math.abs(rnd()) % 20_000);
    for (const n of lengths) {
      const w = words(n);
      expect(kernel(w), `length ${n}`).toBe(checksum(w));
    }
  });

  it("sees a single flipped bit wherever it is: in the kernel's chunks and in the scalar tail", () => {
    const w = words(4096 + 13); // 4096 words go through the kernel, 13 through the tail
    const before = kernel(w);
    for (const at of [0, 1, 17, 2047, 2048, 4095, 4096, 4108]) {
      for (const bit of [0, 13, 31]) {
        w[at]! ^= 1 << bit;
        expect(kernel(w), `word ${at} bit ${bit}`).not.toBe(before);
        expect(kernel(w)).toBe(checksum(w));
        w[at]! ^= 1 << bit;
      }
    }
    expect(kernel(w)).toBe(before);
  });

  it("checks itself at start-up against a known answer that is the reference's", () => {
    expect(checksum(selfCheckWords())).toBe(SELF_CHECK_SUM);
    expect(kernel(selfCheckWords())).toBe(SELF_CHECK_SUM);
  });

  it('is refused when it disagrees with the reference, so a broken kernel is never installed', () => {
    const memory = { buffer: new ArrayBuffer(65_536) };
    const lazy: ChecksumKernel = { memory, fold: () => {} }; // adds nothing
    expect(() => kernelChecksum(lazy)).toThrow(/disagrees/);
    expect(() => kernelChecksum({ memory: { buffer: new ArrayBuffer(1024) }, fold: () => {} })).toThrow(/too small/);
  });

  it('verifies envelopes once installed: a good blob decodes, a corrupt one is refused', () => {
    const weights = new Float32Array(40_000).map((_, i) => Math.sin(i));
    const blob = encodeEnvelope({ kind: 'linear', name: 'm', version: 'v1', featureSpecHash: 1, meta: {}, sections: [['WGHT', weights]] });
    useChecksum(kernel);
    expect(decodeEnvelope(blob.slice().buffer).ok).toBe(true);
    for (const at of [40, blob.length / 2, blob.length - 3]) {
      const bad = blob.slice();
      bad[at]! ^= 0x10;
      expect(decodeEnvelope(bad.buffer), `byte ${at}`).toEqual({ ok: false, reason: 'checksum' });
    }
  });

  it('lazily: builds the kernel on the first call only, and falls back once when it cannot', () => {
    let loads = 0;
    const lazy = lazyChecksum(
      () => {
        loads++;
        return kernel;
      },
      () => {
        throw new Error('no fallback expected');
      },
    );
    expect(loads).toBe(0);
    const w = words(5000);
    expect(lazy(w)).toBe(checksum(w));
    expect(lazy(words(0))).toBe(checksum(words(0)));
    expect(loads).toBe(1);

    const failures: unknown[] = [];
    const fallback = lazyChecksum(
      () => {
        throw new Error('no SIMD');
      },
      (err) => {
        failures.push(err);
        return checksum;
      },
    );
    expect(fallback(w)).toBe(checksum(w));
    expect(fallback(w)).toBe(checksum(w));
    expect(failures.map(String)).toEqual(['Error: no SIMD']);
  });

  it('is built from its source: checksum.wasm is what npm run build:wasm makes of checksum.wat', async () => {
    const committed = readFileSync(new URL('../../src/core/checksum.wasm', import.meta.url));
    expect(Buffer.from(await compileWat('src/core/checksum.wat')).equals(committed)).toBe(true);
  });
});
