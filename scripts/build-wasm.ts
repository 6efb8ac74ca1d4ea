#!/usr/bin/env node
// Compiles the WebAssembly text sources in src/core (the checksum kernel) into the binaries
// the Worker imports. The binaries are committed, so neither `npm start` nor CI needs this
// step; test/unit/checksum.test.ts fails when a binary no longer matches its source.
import { readFileSync, writeFileSync } from 'node:fs';
import wabtInit from 'wabt';

export const WASM_SOURCES = ['src/core/checksum.wat'];

/** The binary for one .wat source, as this script writes it. */
export async function compileWat(path: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat(path, readFileSync(path, 'utf8'), { simd: true });
  try {
    module.validate();
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const source of WASM_SOURCES) {
    const bytes = await compileWat(source);
    const target = source.replace(/\.wat$/, '.wasm');
    writeFileSync(target, bytes);
    console.log(`${target}: ${bytes.length} bytes`);
  }
}
