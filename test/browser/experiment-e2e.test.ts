/**
 * A bandit test from the admin page to live pages without code, in real Chromium: create it on
 * the admin page (at phone width) and launch it; the demo landing page behind the proxy (its
 * page rules name the test in the hero) and a snippet page on another origin
 * (`data-attune-experiment`) show its arms; simulated clicks (npm run demo:clicks) and a real
 * click reach the results, which show the conversions while the allocation moves; stopping it
 * with the winner the page suggests, after confirming, gives every new visitor the winner.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminUrl, launchChromium, startOrigin, startWorker, type RunningWorker } from './harness.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const RULES = JSON.parse(readFileSync(path.join(ROOT, 'demo/page-rules.json'), 'utf8'));
const ARMS = {
  benefit: 'Sharper focus by day, softer evenings by night',
  urgency: 'Launch pricing ends Friday: 20% off Lumen',
  social: 'Lighting 40,000 desks and counting',
} as const;
const TEXTS: readonly string[] = Object.values(ARMS);

let origin: Awaited<ReturnType<typeof startOrigin>>;
let worker: RunningWorker;
let browser: Browser;

/** A page on the site's own origin that only loads the snippet (no proxy in front of it). */
const snippetPage = (workerUrl: string) => `<!doctype html><html><head><meta charset="utf-8">
<style id="attune-af">[data-attune-experiment]{visibility:hidden}</style>
<script src="${workerUrl}/attune.js" async></script></head>
<body><h1 id="headline" data-attune-experiment="demo-hero">Light that follows your day</h1></body></html>`;

beforeAll(async () => {
  let workerUrl = '';
  origin = await startOrigin((req, res) => {
    const p = new URL(req.url!, 'http://x').pathname;
    const file = p === '/' ? 'index.html' : p === '/style.css' ? 'style.css' : null;
    if (file) {
      res.writeHead(200, { 'content-type': file.endsWith('.css') ? 'text/css' : 'text/html; charset=utf-8' });
      res.end(readFileSync(path.join(ROOT, 'demo/site', file)));
      return true;
    }
    if (p === '/snippet/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(snippetPage(workerUrl));
      return true;
    }
    return false;
  });
  worker = await startWorker(origin.url, RULES);
  workerUrl = worker.url;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await origin?.close();
});

/** Nothing wider than the viewport: the page works at phone width without sideways scrolling. */
const fitsWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);

async function heroOf(page: Page, selector: string): Promise<string> {
  await page.waitForSelector(`${selector}[data-attune-decision]`, { timeout: 15_000 });
  return (await page.textContent(selector))!.trim();
}

describe('a bandit test from the admin page to live pages', () => {
  it('create → launch → proxy and snippet pages show arms → clicks move it → stop with the winner → everybody gets it', async () => {
    // 1. Create and launch on the admin page, at phone width
    const adminCtx = await browser.newContext({ viewport: { width: 375, height: 800 } });
    const admin = await adminCtx.newPage();
    // in proxy mode the admin page answers on ADMIN_HOST only, never on the proxied site's host
    expect((await fetch(`${worker.url}/ui/experiments/login`)).status).toBe(404);
    await admin.goto(`${adminUrl(worker)}/ui/experiments`);
    await admin.fill('#token', worker.adminToken);
    await Promise.all([admin.waitForURL('**/ui/experiments'), admin.click('button[type=submit]')]);
    expect(await fitsWidth(admin)).toBe(true);
    await admin.fill('#key', 'demo-hero');
    await admin.fill('#name', 'Landing page headline');
    await admin.fill(
      '#arms',
      Object.entries(ARMS)
        .map(([k, v]) => `${k} | ${v}`)
        .join('\n'),
    );
    await admin.fill('#goals', 'click, goal_shop_click');
    await admin.selectOption('#algorithm', 'thompson');
    await admin.fill('#publishSeconds', '1');
    await Promise.all([admin.waitForURL('**/ui/experiments/demo-hero'), admin.click('#create button[type=submit]')]);
    expect(await admin.textContent('#status')).toBe('draft');
    await Promise.all([admin.waitForLoadState('load'), admin.click('#actions button:text("Launch")')]);
    await admin.waitForSelector('#status:text("running")');
    expect(await admin.textContent('#recommendation')).toContain('no data yet');
    expect(await fitsWidth(admin)).toBe(true);

    // 2. The proxied demo page and a snippet-only page show its arms, each sticky per visitor
    const visitor = await browser.newContext();
    const proxied = await visitor.newPage();
    await proxied.goto(`${worker.url}/`);
    expect(await proxied.getAttribute('h1[data-attune-slot="hero"]', 'data-attune-experiment')).toBe('demo-hero');
    const proxiedArm = await heroOf(proxied, 'h1[data-attune-slot="hero"]');
    expect(TEXTS).toContain(proxiedArm);
    await proxied.reload();
    expect(await heroOf(proxied, 'h1[data-attune-slot="hero"]')).toBe(proxiedArm);
    // a real click on the headline: the snippet reports it, naming the test, on pagehide
    await proxied.click('h1[data-attune-slot="hero"]');

    const reader = await browser.newContext();
    const snippet = await reader.newPage();
    await snippet.goto(`${origin.url}/snippet/`);
    const snippetArm = await heroOf(snippet, '#headline');
    expect(TEXTS).toContain(snippetArm);
    expect(await snippet.isVisible('#headline')).toBe(true); // the guard lifted
    await snippet.reload(); // no cookies cross-origin: the profile it keeps holds the arm
    expect(await heroOf(snippet, '#headline')).toBe(snippetArm);
    await proxied.goto('about:blank'); // pagehide: the click beacon goes out
    await snippet.goto('about:blank');

    // 3. Simulated visitors clicking `urgency` most, through the proxy (npm run demo:clicks)
    const clicks = await promisify(execFile)(
      path.join(ROOT, 'node_modules/.bin/node'),
      ['scripts/demo-clicks.ts', '--seconds', '4', '--url', worker.url, '--token', worker.adminToken],
      { cwd: ROOT, encoding: 'utf8', timeout: 90_000 },
    );
    const share = (label: string) => Number(new RegExp(`${label}:.*?urgency ([\\d.]+) %`).exec(clicks.stdout)?.[1]);
    expect(share('after'), clicks.stdout).toBeGreaterThan(share('before'));

    // 4. The results page shows the conversions, and the allocation has moved to urgency
    const cells = (arm: string) => admin.$$eval(`#results tr[data-arm="${arm}"] td`, (tds) => tds.map((t) => t.textContent ?? ''));
    const deadline = Date.now() + 30_000;
    let urgency: string[] = [];
    for (;;) {
      await admin.reload();
      urgency = await cells('urgency');
      if (Number.parseFloat(urgency.at(-2) ?? '0') > 50 || Date.now() > deadline) break; // the allocation column
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(Number.parseFloat(urgency.at(-2)!), urgency.join(' | ')).toBeGreaterThan(50);
    let conversions = 0;
    for (const arm of Object.keys(ARMS)) conversions += Number((await cells(arm))[2]);
    expect(conversions).toBeGreaterThan(0);
    expect(Number(urgency[2])).toBeGreaterThan(0);
    expect(await admin.isVisible('#allocation-chart')).toBe(true);
    expect(await admin.textContent('#health')).toContain('Health:');
    expect(await fitsWidth(admin)).toBe(true);
    await admin
      .screenshot({ path: process.env.ATTUNE_SCREENSHOT ?? `${ROOT}/.wrangler/experiment-375.png`, fullPage: true })
      .catch(() => undefined);

    // 5. Stop with the winner the page suggests, after the confirmation
    expect(await admin.inputValue('#winner')).toBe('urgency');
    await Promise.all([admin.waitForLoadState('load'), admin.click('#actions button:text("Stop with winner")')]);
    expect(await admin.textContent('#confirm-text')).toContain('every visitor will get urgency');
    await Promise.all([admin.waitForURL('**/ui/experiments/demo-hero'), admin.click('#confirm button[type=submit]')]);
    expect(await admin.textContent('#status')).toBe('stopped');
    expect(await admin.textContent('#recommendation')).toContain('Stopped: urgency is served to 100 % of visitors.');
    expect(await admin.textContent('#audit')).toMatch(/admin\s*stop\s*winner urgency/);
    await admin.click('#sign-out');
    await admin.waitForURL('**/ui/experiments/login');

    // 6. Every new visitor gets the winner, on both pages
    await new Promise((r) => setTimeout(r, 6000)); // the Worker's config cache refreshes within MODEL_REFRESH_SECONDS
    for (let i = 0; i < 4; i++) {
      const ctx = await browser.newContext();
      const p = await ctx.newPage();
      await p.goto(`${worker.url}/`);
      expect(await heroOf(p, 'h1[data-attune-slot="hero"]')).toBe(ARMS.urgency);
      await p.goto(`${origin.url}/snippet/`);
      expect(await heroOf(p, '#headline')).toBe(ARMS.urgency);
      await ctx.close();
    }
    for (let i = 0; i < 20; i++) {
      const html = await (await fetch(`${worker.url}/`, { headers: { accept: 'text/html' } })).text();
      expect(/<h1 data-attune-slot="hero"[^>]*>([^<]*)<\/h1>/.exec(html)![1]).toBe(ARMS.urgency);
    }
    await Promise.all([adminCtx.close(), visitor.close(), reader.close()]);
  }, 240_000);
});
