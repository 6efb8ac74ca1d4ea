/**
 * The Chromium a machine without a system browser gets: the binary inside the npm package
 * @sparticuz/chromium, found, extracted and started the way every browser suite starts its
 * browser (chromium.ts), even here where a system Chromium may exist.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findChromium, launchChromium } from './chromium.ts';

const linuxX64 = process.platform === 'linux' && process.arch === 'x64';

describe.skipIf(!linuxX64)('the packaged Chromium', () => {
  it('is extracted once and renders a page with script', async () => {
    const found = await findChromium({ env: {}, systemPaths: [] });
    expect(found.source).toBe('package');
    expect(existsSync(found.path)).toBe(true);
    expect((await findChromium({ env: {}, systemPaths: [] })).path).toBe(found.path); // reused, not extracted again
    const browser = await launchChromium({ env: {}, systemPaths: [] });
    try {
      const page = await browser.newPage();
      await page.setContent('<h1 id="h">hello</h1><script>document.getElementById("h").textContent += ", world"</script>');
      expect(await page.textContent('#h')).toBe('hello, world');
    } finally {
      await browser.close();
    }
  }, 120_000);
});
