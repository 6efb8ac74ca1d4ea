/**
 * The campaigns admin page in a real browser (Chromium via playwright-core, chromium.ts): sign in,
 * create a campaign through the form, let an exchange bid on it and win, and watch its page's
 * stats and charts move.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './chromium.ts';
import { startWorker, stopAllWorkers, type WorkerProcess } from './worker-process.ts';

const EXCHANGE_KEY = 'browser-exchange-key-0123456789';
let worker: WorkerProcess;
let browser: Browser;

beforeAll(async () => {
  worker = await startWorker({ vars: { EXCHANGE_KEYS: `browser:${EXCHANGE_KEY}` } });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stopAllWorkers();
});

/** The exchange: a bid request for a 300×250, then the win notice of the bid it got. */
async function bidAndWin(): Promise<number> {
  const res = await fetch(`${worker.url}/openrtb2/bid`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${EXCHANGE_KEY}` },
    body: JSON.stringify({
      id: `r-${Date.now()}`,
      imp: [{ id: '1', banner: { w: 300, h: 250 }, bidfloor: 0.5 }],
      site: { id: 'news', domain: 'news.example', publisher: { id: 'p1' } },
    }),
  });
  expect(res.status).toBe(200);
  const bid = ((await res.json()) as { seatbid: { bid: { cid: string; price: number; nurl: string }[] }[] }).seatbid[0]!.bid[0]!;
  expect(bid.cid).toBe('spring-sale');
  const win = await fetch(bid.nurl.replace('${AUCTION_PRICE}', '1.25').replace('${AUCTION_CURRENCY}', 'USD'));
  expect(win.status).toBe(200);
  return bid.price;
}

describe('campaigns admin page in Chromium', () => {
  it('signs in, creates a campaign, and its stats move when it bids and wins', async () => {
    const page = await browser.newPage();
    await page.goto(`${worker.url}/ui/campaigns`);
    expect(new URL(page.url()).pathname).toBe('/ui/campaigns/login');
    await page.fill('#token', worker.adminToken);
    await Promise.all([page.waitForURL('**/ui/campaigns'), page.click('button[type=submit]')]);
    expect(await page.textContent('#campaigns')).toContain('no campaigns yet');

    await page.fill('#id', 'spring-sale');
    await page.fill('#adomain', 'shop.example');
    await page.fill('#adm', '<a href="${CLICK_URL}"><img src="https://shop.example/a.png"></a>');
    await page.fill('#clickUrl', 'https://shop.example/spring');
    await page.fill('#value', '2');
    await page.fill('#maxCpm', '10');
    await page.fill('#daily', '25');
    await Promise.all([page.waitForURL('**/ui/campaigns/spring-sale'), page.click('#create button[type=submit]')]);
    expect(await page.textContent('#status')).toBe('active');
    expect(await page.textContent('#stats')).toContain('total');

    const price = await bidAndWin();
    expect(price).toBe(2);
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.locator('#volume-chart polyline[data-series="wins"]').getAttribute('data-last');
        },
        { timeout: 15_000 },
      )
      .toBe('1');
    expect(await page.locator('#volume-chart polyline[data-series="bids"]').getAttribute('data-last')).toBe('1');
    const totals = await page.locator('#stats tbody tr').first().locator('td').allTextContents();
    expect(totals.slice(0, 7)).toEqual(['total', '1', '1', '100.00 %', '0', '$0.0013', '$1.25']);
    expect(await page.textContent('#today')).toContain('$0.0013 spent');
    const box = await page.locator('#volume-chart').boundingBox();
    expect(box!.width).toBeGreaterThan(300); // rendered, not just present in the markup
    await page
      .screenshot({ path: process.env.ATTUNE_SCREENSHOT ?? `${process.cwd()}/.wrangler/campaign-page.png`, fullPage: true })
      .catch(() => undefined);

    await Promise.all([page.waitForLoadState('load'), page.click('#actions button:text("Pause")')]);
    await page.waitForSelector('#status:text("paused")');
    await page.goto(`${worker.url}/ui/campaigns`);
    expect(await page.textContent('#campaigns')).toContain('spring-sale');
    expect(await page.textContent('#campaigns')).toContain('paused');
    await page.close();
  });
});
