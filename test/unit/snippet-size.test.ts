/** The snippet's byte budget, and that the Worker serves exactly what the source builds to. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without declarations
import { assetModule, buildSnippet } from '../../scripts/build-snippet.mjs';

const BUDGET = 3 * 1024;

describe('snippet', () => {
  it(`is at most ${BUDGET} bytes minified + gzipped`, async () => {
    const { code, gzipBytes } = await buildSnippet();
    console.log(`attune.js: ${code.length} bytes minified, ${gzipBytes} bytes gzipped (budget ${BUDGET})`);
    expect(gzipBytes).toBeLessThanOrEqual(BUDGET);
  });

  it('built files are up to date with snippets/attune.ts (run npm run snippet:build)', async () => {
    const built = await buildSnippet();
    expect(readFileSync('snippets/attune.min.js', 'utf8')).toBe(built.code);
    expect(readFileSync('src/worker/snippet/snippet-asset.ts', 'utf8')).toBe(assetModule(built));
  });
});
