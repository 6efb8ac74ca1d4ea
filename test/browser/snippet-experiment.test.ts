/**
 * The snippet's part in tests without code, in real Chromium on a page of another origin:
 * `data-attune-experiment` elements get the visitor's arm (a URL arm as an image, whose load
 * failure is reported as render_error, naming the test); the site's own conversion event,
 * through `attune('track', …)` called as a function before the snippet loaded, and an
 * analytics.js `track` call, reach the test through the decision the visitor was served, with no
 * experiment field set by hand.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashVisitor } from '../../src/core/decision-record.ts';
import { launchChromium, readLog, startOrigin, startWorker, waitFor, type RunningWorker } from './harness.ts';

let origin: Awaited<ReturnType<typeof startOrigin>>;
let worker: RunningWorker;
let browser: Browser;

const page = (workerUrl: string) => `<!doctype html><html><head><meta charset="utf-8">
<script>
  // the site's own tags, before attune loads: a function stub, and analytics.js's (which has on())
  window.attune = window.attune || function () { (attune.q = attune.q || []).push(arguments); };
  attune('track', 'purchase', { value: 30, currency: 'EUR', plan: 'pro' });
  window.analytics = { handlers: {}, on: function (name, fn) { this.handlers[name] = fn; } };
</script>
<script src="${workerUrl}/attune.js" async></script></head>
<body><h1 id="headline" data-attune-experiment="snip-text">Default headline</h1>
<div id="banner" data-attune-experiment="snip-url"></div></body></html>`;

/** A link whose test's arm is a URL: the snippet may only ever put an http(s) one into its href. */
const linkPage = (workerUrl: string) => `<!doctype html><html><head><meta charset="utf-8">
<script src="${workerUrl}/attune.js" async></script></head>
<body><a id="link" href="/safe" data-attune-experiment="snip-link">Read more</a></body></html>`;

async function admin(path: string, body?: unknown) {
  const res = await fetch(`${worker.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${worker.adminToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, any>>;
}

beforeAll(async () => {
  let workerUrl = '';
  origin = await startOrigin((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    if (path !== '/exp/' && path !== '/link/') return false;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(path === '/exp/' ? page(workerUrl) : linkPage(workerUrl));
    return true;
  });
  worker = await startWorker(origin.url, { version: 'none', pages: [] });
  workerUrl = worker.url;
  browser = await launchChromium();
  const text = (key: string, value: string) => ({ key, payload: { type: 'text', value } });
  await admin('/admin/experiments', {
    key: 'snip-text',
    name: 'Snippet headline',
    arms: [text('calm', 'A calm headline'), text('bold', 'A bold headline')],
    goals: ['purchase'],
    publishSeconds: 1,
  });
  await admin('/admin/experiments', {
    key: 'snip-url',
    name: 'Snippet banner',
    // images the origin does not have: every render fails
    arms: ['one', 'two'].map((key) => ({ key, payload: { type: 'url', value: `${origin.url}/missing-${key}.png` } })),
    goals: ['click'],
    publishSeconds: 1,
  });
  for (const key of ['snip-text', 'snip-url']) await admin(`/admin/experiments/${key}/launch`, {});
});

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  await origin?.close();
});

describe('snippet: tests without code', () => {
  it('renders arms, reports failed renders, and credits the site’s own conversions through the served decision', async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.goto(`${origin.url}/exp/`);
    await p.waitForSelector('#headline[data-attune-decision]');
    expect(['A calm headline', 'A bold headline']).toContain(await p.textContent('#headline'));
    await p.waitForSelector('#banner[data-attune-decision] img');
    expect(await p.getAttribute('#banner img', 'src')).toMatch(/\/missing-(one|two)\.png$/);
    const vid = (await p.evaluate(() => localStorage.getItem('att_vid')))!;
    // analytics.js calls its track listeners: the snippet forwards the call, under our visitor
    await p.evaluate(() =>
      (window as unknown as { analytics: { handlers: { track: (e: string, p: object) => void } } }).analytics.handlers.track(
        'Order Completed',
        { revenue: 12, currency: 'usd' },
      ),
    );
    await p.waitForTimeout(300);
    await p.goto('about:blank'); // pagehide: the beacon goes out
    const visitor = hashVisitor(vid);
    const mine = await waitFor(
      'the purchases and the render failure in R2',
      () => {
        const all = readLog(worker.persist).filter((r) => r.visitor === visitor);
        return all.filter((r) => r.name === 'purchase').length >= 2 && all.some((r) => r.name === 'render_error') ? all : null;
      },
      45_000,
    );
    const failure = mine.find((r) => r.name === 'render_error')!;
    expect(failure).toMatchObject({ experiment: 'snip-url', slot: 'snip-url' });
    const served = mine.find((r) => r.type === 'decision' && r.experiment === 'snip-url')!;
    expect(failure.decisionId).toBe(served.id);
    const purchases = mine.filter((r) => r.name === 'purchase');
    expect(purchases.map((r) => r.value).sort()).toEqual([12, 30]);
    expect(purchases.every((r) => r.experiment === undefined)).toBe(true); // nobody named the test
    expect(purchases.find((r) => r.value === 12)).toMatchObject({ currency: 'USD' }); // mapped as a Segment Order Completed

    // the test counts the visitor's conversion (once) through the decision it served them
    const results = await (async () => {
      const end = Date.now() + 30_000;
      for (;;) {
        const r = await admin('/admin/experiments/snip-text/results');
        if (r.arms.some((a: { conversions: number }) => a.conversions > 0) || Date.now() > end) return r;
        await new Promise((ok) => setTimeout(ok, 500));
      }
    })();
    expect(results.arms.reduce((t: number, a: { conversions: number }) => t + a.conversions, 0)).toBe(1);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('never follows a javascript: URL arm (the admin API refuses one; a stored one may predate that)', async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'content-type' };
    // the Worker's answer as a test stored before URL arms were checked would give it
    await p.route(`${worker.url}/v1/decide`, (route) =>
      route.request().method() === 'OPTIONS'
        ? route.fulfill({ status: 204, headers: cors })
        : route.fulfill({
            headers: cors,
            json: {
              decisions: [
                {
                  slot: 'snip-link',
                  decisionId: 'dec-unsafe-link',
                  variant: 'evil',
                  experiment: { exposed: true, payload: { type: 'url', value: 'javascript:alert(1)' } },
                },
              ],
            },
          }),
    );
    await p.goto(`${origin.url}/link/`);
    await p.waitForSelector('#link[data-attune-decision="dec-unsafe-link"]');
    expect(await p.getAttribute('#link', 'href')).toBe('/safe');
    await ctx.close();
  });
});
