/**
 * The envelope checksum's WebAssembly kernel for Node tools (the Worker imports the compiled
 * module instead: Workers may not compile WebAssembly from bytes at run time).
 */
import { readFileSync } from 'node:fs';
import { kernelChecksum, type Checksum, type ChecksumKernel } from '../core/checksum.ts';

const WASM = new URL('../core/checksum.wasm', import.meta.url);

// Node has WebAssembly as a global, but @types/node only declares its types, not the values.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The kernel-backed checksum; throws where WebAssembly SIMD is missing or the kernel disagrees. */
export function loadKernelChecksum(): Checksum {
  const instance = new wasm.Instance(new wasm.Module(readFileSync(WASM)));
  return kernelChecksum(instance.exports as unknown as ChecksumKernel);
}
