/**
 * Page rules that name an experiment: the proxy renders the visitor's arm into the slot (text,
 * HTML, URL, JSON), sticky per visitor; a paused, stopped or missing test serves its control, its
 * winner or the origin's markup and says so in `x-attune-fallback`; a served page is an exposure,
 * unless the slot was not on the page.
 */
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { admin, createAndLaunch, eventually, loggedRecords, results } from './experiment-helpers.ts';
import { cookieHeader, cookiesOf, DESKTOP, fetchWorker, resetCaches } from './helpers.ts';

/** Page rules for /arms naming this test's experiments (`px<n>`, `px<n>-url`, …: storage outlives a test). */
const rules = (n: number) => ({
  version: `px${n}`,
  pages: [
    {
      path: '/arms',
      slots: [
        { id: 'hero', experiment: `px${n}` },
        { id: 'banner', experiment: `px${n}-url` },
        { id: 'offer', experiment: `px${n}-url` },
        { id: 'config', experiment: `px${n}-json` },
        { id: 'promo', experiment: `px${n}-missing` },
        { id: 'gone', selector: '#not-on-the-page', experiment: `px${n}-gone` },
      ],
    },
  ],
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetchWorker(path, { headers: { 'user-agent': DESKTOP, accept: 'text/html', ...headers } });

const text = (arms: Record<string, string>, type = 'text') =>
  Object.entries(arms).map(([key, value]) => ({ key, payload: { type, value: type === 'json' ? JSON.parse(value) : value } }));

beforeEach(resetCaches);

async function launchAll(n: number) {
  await env.KV.put('config/page-rules', JSON.stringify(rules(n)));
  await createAndLaunch(`px${n}`, { arms: [...text({ a: 'Headline A' }), ...text({ b: '<em>Headline B</em>' }, 'html')] });
  await createAndLaunch(`px${n}-url`, { arms: text({ u1: 'https://cdn.example/one.png', u2: 'https://cdn.example/two.png' }, 'url') });
  await createAndLaunch(`px${n}-json`, { arms: text({ j1: '{"tier":1}', j2: '{"tier":"</script>"}' }, 'json') });
  await createAndLaunch(`px${n}-gone`);
  resetCaches();
}

describe('page rules that name an experiment', () => {
  it("renders the visitor's arm of every payload type into its slot, sticky across page views", async () => {
    await launchAll(1);
    const res = await get('/arms');
    expect(res.status).toBe(200);
    const html = await res.text();
    const hero = /<h1([^>]*)>(.*?)<\/h1>/.exec(html)!;
    expect(hero[1]).toContain('data-attune-experiment="px1"');
    expect(['Headline A', '<em>Headline B</em>']).toContain(hero[2]);
    const src = (page: string) => /<img[^>]*data-attune-slot="banner"[^>]*src="([^"]*)"/.exec(page)![1];
    const img = src(html);
    expect(img).toMatch(/^https:\/\/cdn\.example\/(one|two)\.png$/);
    const offer = /<a[^>]*data-attune-slot="offer"[^>]*>/.exec(html)![0];
    expect(offer).toMatch(/href="https:\/\/cdn\.example\/(one|two)\.png"/);
    // attributes in quotes may hold ">": read them one by one
    const config = /<script type="application\/json" data-attune-slot="config"(?: [a-z-]+="[^"]*")*>(.*?)<\/script>/.exec(html)!;
    expect(config[0]).toMatch(/data-attune-payload="\{&quot;tier&quot;:/);
    expect(JSON.parse(config[1]!).tier).toBeDefined(); // "</script>" in an arm cannot end the element
    expect(html).toContain('Origin promo'); // a missing test keeps the origin's markup…
    expect(res.headers.get('x-attune-fallback')).toContain('promo=unknownExperiment'); // …and says so
    expect(html).not.toContain('src="/origin.png"');

    // the same visitor sees the same arms on the next page view
    const cookie = cookieHeader(cookiesOf(res));
    for (let i = 0; i < 3; i++) {
      const again = await (await get('/arms', { cookie })).text();
      expect(/<h1[^>]*>(.*?)<\/h1>/.exec(again)![1]).toBe(hero[2]);
      expect(src(again)).toBe(img);
    }
    // an arm whose JSON holds "</script>" cannot end the script element it renders into
    expect((await admin('/admin/experiments/px1-json/pause-arm', { arm: 'j1' })).status).toBe(200);
    resetCaches();
    const j2 = await (await get('/arms')).text();
    const script = /<script type="application\/json" data-attune-slot="config"(?: [a-z-]+="[^"]*")*>(.*?)<\/script>/.exec(j2)!;
    expect(JSON.parse(script[1]!)).toEqual({ tier: '</script>' });
  });

  it('serves control while paused and the winner once stopped, saying so', async () => {
    await launchAll(2);
    expect((await admin('/admin/experiments/px2/pause')).status).toBe(200);
    resetCaches();
    const paused = await get('/arms');
    expect(/<h1([^>]*)>(.*?)<\/h1>/.exec(await paused.text())!.slice(1)).toEqual([
      expect.not.stringContaining('data-attune-experiment'),
      'Headline A',
    ]);
    expect(paused.headers.get('x-attune-fallback')).toContain('hero=paused');
    expect((await admin('/admin/experiments/px2/stop', { winner: 'b' })).status).toBe(200);
    resetCaches();
    for (let i = 0; i < 3; i++) {
      const stopped = await get('/arms');
      expect(/<h1[^>]*>(.*?)<\/h1>/.exec(await stopped.text())![1]).toBe('<em>Headline B</em>');
      expect(stopped.headers.get('x-attune-fallback')).toContain('hero=stopped');
    }
  });

  it('counts a served page as an exposure, and a slot the page did not have as none', async () => {
    await launchAll(3);
    const html = await (await get('/arms')).text();
    const served = /<h1[^>]*data-attune-variant="([ab])"/.exec(html)![1];
    const r = await eventually('the exposure counted', async () => {
      const now = await results('px3');
      return now.arms.some((a: { impressions: number }) => a.impressions > 0) ? now : null;
    });
    expect(Object.fromEntries(r.arms.map((a: { arm: string; impressions: number }) => [a.arm, a.impressions]))).toEqual({
      a: served === 'a' ? 1 : 0,
      b: served === 'b' ? 1 : 0,
    });
    const gone = await eventually('the gone slot logged', async () =>
      (await loggedRecords()).find((x) => x.type === 'decision' && x.slot === 'gone' && x.fallback === 'slotNotFound'),
    );
    expect(gone).toMatchObject({ fallback: 'slotNotFound' });
    expect(gone).not.toHaveProperty('experiment');
    expect((await results('px3-gone')).arms.map((a: { impressions: number }) => a.impressions)).toEqual([0, 0]);
  });

  it('refuses page rules that give a slot an experiment and a model', async () => {
    const { parsePageRules } = await import('../../src/worker/proxy/page-rules.ts');
    expect(parsePageRules({ version: 'x', pages: [{ path: '/', slots: [{ id: 'hero', experiment: 'px', model: 'm' }] }] })).toBeNull();
    expect(parsePageRules({ version: 'x', pages: [{ path: '/', slots: [{ id: 'hero', experiment: 'px' }] }] })).not.toBeNull();
  });
});
