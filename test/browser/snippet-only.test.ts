/**
 * Snippet-only mode in real Chromium: a static page on its own origin (no proxy) loads
 * /attune.js from the Worker, which asks /v1/decide for the page's slots and swaps in the
 * chosen templates behind a bounded anti-flicker guard.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashVisitor } from '../../src/core/decision-record.ts';
import {
  HAS_SHARED_DATA,
  LANDING,
  LANDING_HEADLINE,
  launchChromium,
  readLog,
  startOrigin,
  startWorker,
  waitFor,
  type RunningWorker,
} from './harness.ts';

let origin: Awaited<ReturnType<typeof startOrigin>>;
let worker: RunningWorker;
let browser: Browser;

/** The shared landing page as a site that cannot proxy would tag it. */
function staticPage(workerUrl: string, consent: '' | 'required'): string {
  return LANDING.replace(
    '</head>',
    `<style id="attune-af">[data-attune-slot]{visibility:hidden}</style>\n` +
      `<script src="${workerUrl}/attune.js" async${consent ? ` data-consent="${consent}"` : ''}></script>\n</head>`,
  ).replace(
    `<h1 class="mb-5">${LANDING_HEADLINE}</h1>`,
    // a slot first whose variant name has a quote: it must not stop the page's other slots
    `<p data-attune-slot="quoted" data-attune-candidates='say "hi"'>default<template data-variant='say "hi"'>quoted variant</template></p>` +
      `<h1 class="mb-5" data-attune-slot="hero" data-attune-candidates="snippet">${LANDING_HEADLINE}<template data-variant="snippet">Chosen by the snippet</template></h1>`,
  );
}

beforeAll(async () => {
  let workerUrl = '';
  origin = await startOrigin((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname !== '/static/') return false;
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(staticPage(workerUrl, url.searchParams.get('consent') === 'required' ? 'required' : ''));
    return true;
  });
  worker = await startWorker(origin.url, { version: 'none', pages: [] });
  workerUrl = worker.url;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await origin?.close();
});

const loaded = (page: Page) => page.waitForFunction(() => (window as unknown as { attune?: { loaded?: boolean } }).attune?.loaded === true);

describe.skipIf(!HAS_SHARED_DATA)('snippet-only mode in Chromium', () => {
  it('applies the decided variant on a static page and lifts the guard', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${origin.url}/static/`);
    await page.waitForSelector('h1[data-attune-decision]');
    expect(await page.textContent('header.masthead h1')).toBe('Chosen by the snippet');
    expect(await page.textContent('p[data-attune-slot="quoted"]')).toBe('quoted variant');
    expect(await page.getAttribute('header.masthead h1', 'data-attune-variant')).toBe('snippet');
    expect(await page.$('#attune-af')).toBeNull();
    expect(await page.isVisible('header.masthead h1')).toBe(true);
    const vid = await page.evaluate(() => localStorage.getItem('att_vid'));
    expect(vid).toMatch(/^[0-9a-f]{32}$/);

    // tracking works cross-origin too: an impression and a conversion, sent on pagehide
    await page.waitForTimeout(1300);
    await page.evaluate(() =>
      (window as unknown as { attune: { track: (n: string, p: object) => void } }).attune.track('purchase', {
        value: 42,
        currency: 'EUR',
        plan: 'pro',
      }),
    );
    await page.goto('about:blank');
    // accepted by /v1/events and written to R2 by the queue consumer, under the snippet's id
    const visitor = hashVisitor(vid!);
    const logged = await waitFor(
      'impression and purchase in R2',
      () => {
        const mine = readLog(worker.persist).filter((r) => r.visitor === visitor);
        return mine.some((r) => r.name === 'impression') && mine.some((r) => r.name === 'purchase') ? mine : null;
      },
      45_000,
    );
    const decision = logged.find((r) => r.type === 'decision' && r.slot === 'hero')!;
    expect(decision).toMatchObject({ slot: 'hero', action: 'snippet' });
    expect(logged.find((r) => r.name === 'impression' && r.slot === 'hero')).toMatchObject({
      slot: 'hero',
      variant: 'snippet',
      decisionId: decision.id,
    });
    expect(logged.find((r) => r.name === 'purchase')).toMatchObject({ value: 42, currency: 'EUR', props: { plan: 'pro' } });
    await ctx.close();
  });

  it('keeps the anti-flicker guard bounded when /v1/decide never answers', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.route(`${worker.url}/v1/decide`, () => {
      /* never answered */
    });
    const t0 = Date.now();
    await page.goto(`${origin.url}/static/`);
    await loaded(page);
    await page.waitForSelector('#attune-af', { state: 'detached', timeout: 3000 });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await page.isVisible('header.masthead h1')).toBe(true);
    expect(await page.textContent('header.masthead h1')).toBe(LANDING_HEADLINE); // the original stays
    await ctx.close();
  });

  it('with consent required, stores no id and sends nothing until attune.consent(true)', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const sent: string[] = [];
    const decides: string[] = [];
    ctx.on('request', (r) => {
      if (r.url() === `${worker.url}/v1/events`) sent.push(r.url());
      if (r.url() === `${worker.url}/v1/decide` && r.method() === 'POST') decides.push(r.postData() ?? '');
    });
    await page.goto(`${origin.url}/static/?consent=required`);
    await page.waitForSelector('h1[data-attune-decision]'); // decisions still apply, without an id
    expect(JSON.parse(decides[0]!)).toMatchObject({ track: false }); // and the server keeps no record of them
    await page.waitForTimeout(1300);
    await page.evaluate(() => (window as unknown as { attune: { flush: () => void } }).attune.flush());
    await page.waitForTimeout(300);
    expect(sent).toEqual([]);
    expect(await page.evaluate(() => localStorage.getItem('att_vid'))).toBeNull();
    await page.evaluate(() => (window as unknown as { attune: { consent: (b: boolean) => void } }).attune.consent(true));
    await expect.poll(() => sent.length, { timeout: 3000 }).toBe(1);
    const vid = await page.evaluate(() => localStorage.getItem('att_vid'));
    expect(vid).toMatch(/^[0-9a-f]{32}$/);
    // the impression was held in memory and sent once allowed, under the id created then
    await waitFor(
      'the held impression in R2',
      () => readLog(worker.persist).some((r) => r.visitor === hashVisitor(vid!) && r.name === 'impression'),
      45_000,
    );
    await ctx.close();
  });

  it('runs calls queued before it loaded and never throws into the page', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    let beacons = 0;
    ctx.on('request', (r) => {
      if (r.url() === `${worker.url}/v1/events`) beacons++;
    });
    await page.addInitScript(() => {
      const q: unknown[] = [];
      (window as unknown as { attune: unknown[] }).attune = q;
      q.push(['track', 'signup_started', { step: 1 }], ['no-such-method', 1], ['track', null, undefined]);
    });
    await page.goto(`${origin.url}/static/`);
    await loaded(page);
    await page.evaluate(() => {
      const a = (window as unknown as { attune: Record<string, (...x: unknown[]) => unknown> }).attune;
      a.track!(Symbol('bad') as unknown as string, { cyclic: window });
      a.push!(null);
      a.flush!();
    });
    await expect.poll(() => beacons, { timeout: 3000 }).toBeGreaterThan(0);
    const vid = await page.evaluate(() => localStorage.getItem('att_vid'));
    const goals = await waitFor(
      'the queued goal in R2',
      () => {
        const mine = readLog(worker.persist).filter((r) => r.visitor === hashVisitor(vid!) && r.name === 'goal');
        return mine.length >= 3 ? mine : null;
      },
      45_000,
    );
    expect(goals.find((e) => e.goal === 'signup_started')).toMatchObject({ props: { step: 1 } });
    expect(goals.find((e) => e.goal === 'Symbol(bad)')?.props).toBeUndefined(); // the cyclic prop was dropped
    expect(errors).toEqual([]);
    await ctx.close();
  });
});
