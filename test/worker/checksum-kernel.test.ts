import { describe, expect, it } from 'vitest';
import { checksum, kernelChecksum, type ChecksumKernel } from '../../src/core/checksum.ts';
import checksumModule from '../../src/core/checksum.wasm';

describe('the checksum kernel inside workerd', () => {
  it('instantiates from the bundled module, as the Worker does on its first model load, and agrees with the reference', () => {
    const kernel = kernelChecksum(new WebAssembly.Instance(checksumModule).exports as unknown as ChecksumKernel);
    let seed = 5;
    for (const n of [0, 7, 16, 2048, 2049, 100_003]) {
      const words = new Int32Array(n);
      for (let i = 0; i < n; i++) words[i] = seed = (Math.imul(seed, 1664525) + 1013904223) | 0;
      expect(kernel(words), `length ${n}`).toBe(checksum(words));
    }
  });
});
