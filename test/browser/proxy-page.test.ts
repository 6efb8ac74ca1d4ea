/**
 * Proxy mode in real Chromium: the Worker (wrangler dev, real local KV/Queues/R2) in front of
 * a loopback origin serving the shared Start Bootstrap pages.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HAS_SHARED_DATA,
  LANDING_HEADLINE,
  launchChromium,
  readLog,
  startOrigin,
  startWorker,
  waitFor,
  type RunningWorker,
} from './harness.ts';

const VARIANT = 'Personalized at the edge';
const RULES = {
  version: 'browser-1',
  pages: [
    {
      path: '/landing/',
      pageType: 'landing',
      slots: [{ id: 'hero', selector: 'header.masthead h1', candidates: ['edge'], variants: { edge: { text: VARIANT } } }],
    },
    {
      path: '/shop/',
      pageType: 'category',
      slots: [
        {
          id: 'recs',
          selector: 'section .row',
          recommend: { count: 2, template: '<div class="col mb-5" data-attune-item="{{id}}"><h5 class="fw-bolder">{{name}}</h5></div>' },
        },
      ],
    },
  ],
  popular: [
    { id: 'p1', name: 'Edge Pick One' },
    { id: 'p2', name: 'Edge Pick Two' },
  ],
};

let origin: Awaited<ReturnType<typeof startOrigin>>;
let worker: RunningWorker;
let browser: Browser;

beforeAll(async () => {
  origin = await startOrigin((req, res, self) => {
    if (req.url !== '/go') return false;
    res.writeHead(302, { location: `${self}/landing/` }).end();
    return true;
  });
  worker = await startWorker(origin.url, RULES);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await origin?.close();
});

describe.skipIf(!HAS_SHARED_DATA)('proxy mode in Chromium', () => {
  it('puts the variant in the first HTML the browser receives: the original headline never shows', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    // every state the headline is ever in, from the moment the parser creates it
    await page.addInitScript(() => {
      const seen: string[] = ((window as unknown as { __h1: string[] }).__h1 = []);
      new MutationObserver(() => {
        const h1 = document.querySelector('header.masthead h1');
        if (h1?.textContent && seen[seen.length - 1] !== h1.textContent) seen.push(h1.textContent);
      }).observe(document, { childList: true, subtree: true, characterData: true });
    });
    const res = await page.goto(`${worker.url}/landing/`);
    const html = await res!.text();
    expect(html).toContain(`data-attune-variant="edge">${VARIANT}</h1>`);
    expect(html).not.toContain(LANDING_HEADLINE);
    expect(res!.headers()['cache-control']).toBe('private, no-store');
    await page.waitForFunction(() => (window as unknown as { attune?: { loaded?: boolean } }).attune?.loaded === true);
    expect(await page.evaluate(() => (window as unknown as { __h1: string[] }).__h1)).toEqual([VARIANT]);
    expect(await page.textContent('header.masthead h1')).toBe(VARIANT);
    await ctx.close();
  });

  it('records an impression (50 % visible for 1 s) and a click that reach R2 through the queue', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await page.goto(`${worker.url}/landing/`);
    await page.waitForFunction(() => (window as unknown as { attune?: { loaded?: boolean } }).attune?.loaded === true);
    const decisionId = (await page.getAttribute('header.masthead h1', 'data-attune-decision'))!;
    const vid = (await ctx.cookies()).find((c) => c.name === 'att_vid')!.value;
    expect(decisionId).toMatch(/^[0-9a-f-]{36}$/);
    await page.waitForTimeout(1300);
    await page.click('header.masthead h1');
    await page.goto('about:blank'); // pagehide: the snippet flushes with sendBeacon

    const mine = await waitFor(
      'decision, impression and click in R2',
      () => {
        const log = readLog(worker.persist).filter((r) => r.id === decisionId || r.decisionId === decisionId);
        const names = new Set(log.map((r) => (r.type === 'decision' ? 'decision' : r.name)));
        return names.has('decision') && names.has('impression') && names.has('click') ? log : null;
      },
      45_000,
    );
    const decision = mine.find((r) => r.type === 'decision')!;
    const impression = mine.find((r) => r.name === 'impression')!;
    const click = mine.find((r) => r.name === 'click')!;
    expect(decision).toMatchObject({ kind: 'variant', slot: 'hero', action: 'edge' });
    expect(impression).toMatchObject({ type: 'outcome', slot: 'hero', variant: 'edge', visitor: decision.visitor });
    expect((impression.viewable as { share: number; ms: number }).share).toBeGreaterThanOrEqual(0.5);
    expect((impression.viewable as { share: number; ms: number }).ms).toBe(1000);
    expect(click).toMatchObject({ type: 'outcome', slot: 'hero', variant: 'edge', visitor: decision.visitor });
    expect(vid).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(mine.filter((r) => r.name === 'impression')).toHaveLength(1); // once per slot per page view
    await ctx.close();
  });

  it('with Global Privacy Control on, sends no event and stores no id', async () => {
    const ctx = await browser.newContext({ extraHTTPHeaders: { 'sec-gpc': '1' } });
    await ctx.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
    const page = await ctx.newPage();
    const sent: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/v1/events')) sent.push(r.url());
    });
    await page.goto(`${worker.url}/landing/`);
    await page.waitForFunction(() => (window as unknown as { attune?: { loaded?: boolean } }).attune?.loaded === true);
    await page.waitForTimeout(1300);
    await page.click('header.masthead h1');
    await page.evaluate(() => {
      const a = (
        window as unknown as { attune: { consent: (b: boolean) => void; track: (n: string, p: object) => void; flush: () => void } }
      ).attune;
      a.consent(true); // GPC wins over a consent call
      a.track('purchase', { value: 10, currency: 'EUR' });
      a.flush();
    });
    expect(await page.evaluate(() => localStorage.getItem('att_vid'))).toBeNull();
    expect((await ctx.cookies()).map((c) => c.name)).not.toContain('att_vid'); // the edge sets no id either
    const decisionId = (await page.getAttribute('header.masthead h1', 'data-attune-decision'))!;
    await page.goto('about:blank');
    await page.waitForTimeout(500);
    expect(sent).toEqual([]);
    // Playwright may not report a beacon sent while unloading: check the log itself, after
    // longer than the consumer's batch timeout (5 s)
    await page.waitForTimeout(7000);
    expect(readLog(worker.persist).filter((r) => r.decisionId === decisionId || r.id === decisionId)).toEqual([]);
    await ctx.close();
  });

  it('fills the recommendation slot on the shop page', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${worker.url}/shop/`);
    expect(await page.$$eval('[data-attune-item]', (els) => els.map((e) => e.textContent))).toEqual(['Edge Pick One', 'Edge Pick Two']);
    await ctx.close();
  });

  it('passes a redirect on unfollowed, its Location mapped to the proxy host (real workerd fetch)', async () => {
    const res = await fetch(`${worker.url}/go`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${worker.url}/landing/`);
  });

  // last: it takes the origin down
  it('answers 502 with a clear header when the origin refuses connections', async () => {
    await origin.close();
    // a URL never fetched before: /landing/ itself may now be served from the edge cache
    const res = await fetch(`${worker.url}/landing/?fresh=1`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(502);
    expect(res.headers.get('x-attune-origin')).toBe('unreachable');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200); // the API is unaffected
  });
});
