/**
 * The experiments admin page in a real browser (Chromium via playwright-core, chromium.ts):
 * sign in, create a test through the form, launch it, see the allocation and
 * probability-of-best charts, stop it with a winner (after confirming).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium.ts';
import { startWorker, stopAllWorkers, type WorkerProcess } from './worker-process.ts';

let worker: WorkerProcess;
let browser: Browser;

beforeAll(async () => {
  worker = await startWorker();
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stopAllWorkers();
});

describe('experiments admin page in Chromium', () => {
  it('signs in, creates and launches a test, shows the charts, stops it', async () => {
    const page = await browser.newPage();
    await page.goto(`${worker.url}/ui/experiments`);
    expect(new URL(page.url()).pathname).toBe('/ui/experiments/login');
    await page.fill('#token', worker.adminToken);
    await Promise.all([page.waitForURL('**/ui/experiments'), page.click('button[type=submit]')]);
    expect(await page.textContent('#experiments')).toContain('no tests yet');

    await page.fill('#key', 'hero-headline');
    await page.fill('#name', 'Hero headline');
    await page.fill('#arms', 'control | Start your free trial\nurgent | Start today: 30 days free\nsocial | Join 10,000 teams');
    await page.fill('#goals', 'click');
    await page.selectOption('#algorithm', 'thompson');
    await page.fill('#publishSeconds', '1');
    await Promise.all([page.waitForURL('**/ui/experiments/hero-headline'), page.click('#create button[type=submit]')]);
    expect(await page.textContent('#status')).toBe('draft');

    await Promise.all([page.waitForLoadState('load'), page.click('#actions button:text("Launch")')]);
    await page.waitForSelector('#status:text("running")');
    // The launch publishes the prior snapshot: one line per arm in both charts.
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.locator('#allocation-chart polyline.series').count();
        },
        { timeout: 15_000 },
      )
      .toBe(3);
    expect(await page.locator('#pbest-chart polyline.series').count()).toBe(3);
    const box = await page.locator('#allocation-chart').boundingBox();
    expect(box!.width).toBeGreaterThan(300); // rendered, not just present in the markup
    expect(await page.textContent('#results')).toContain('urgent');
    expect(await page.textContent('#recommendation')).toContain('no data yet'); // not a prior's 2–97 % interval
    await page
      .screenshot({ path: process.env.ATTUNE_SCREENSHOT ?? `${process.cwd()}/.wrangler/admin-page.png`, fullPage: true })
      .catch(() => undefined);

    await page.selectOption('#actions select[name=winner]', 'urgent');
    await Promise.all([page.waitForLoadState('load'), page.click('#actions button:text("Stop with winner")')]);
    expect(await page.textContent('#confirm-text')).toContain('every visitor will get urgent'); // asked first
    await Promise.all([page.waitForURL('**/ui/experiments/hero-headline'), page.click('#confirm button[type=submit]')]);
    await page.waitForSelector('#status:text("stopped")');
    expect(await page.textContent('main')).toContain('winner urgent');

    await page.goto(`${worker.url}/ui/experiments`);
    expect(await page.textContent('#experiments')).toContain('hero-headline');
    await page.close();
  }, 90_000);
});
