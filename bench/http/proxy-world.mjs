// The proxy benches' world (bench:proxy, bench:proxy-profile): the shared HTML pages
// (../shared/data/html-pages) served by a loopback origin, the bundled Worker in Miniflare in
// front of it with page rules that personalize them, and the default models published to KV.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { buildWorker, workerModules } from '../../scripts/bundle-size.ts';
import { publishDirectory } from '../../src/train/publish.ts';
import { benchWorkerOptions } from './worker-options.ts';

/**
 * Starts the origin and the Worker. `modules` (default: the minified build in dist/) is what
 * Miniflare loads; `extra` is merged into its options (an inspector port, say).
 */
export async function proxyWorld({ modules, extra = {} } = {}) {
  const PAGES = resolve(process.cwd(), '../shared/data/html-pages');
  const landing = readFileSync(join(PAGES, 'startbootstrap-landing-page/index.html'));
  const shop = readFileSync(join(PAGES, 'startbootstrap-shop-homepage/index.html'));
  const shopText = shop.toString('utf8');
  const cardsStart = shopText.indexOf('<div class="col mb-5">');
  const cardsEnd = shopText.lastIndexOf('</div>\n            </div>\n        </section>');
  const large = Buffer.from(shopText.slice(0, cardsStart) + shopText.slice(cardsStart, cardsEnd).repeat(40) + shopText.slice(cardsEnd));

  // the same bytes under a personalized path and a pass-through path
  const BODIES = {
    '/c/landing/': landing,
    '/c/shop/': shop,
    '/large-many/': large,
    '/landing/': landing,
    '/raw/landing/': landing,
    '/shop/': shop,
    '/raw/shop/': shop,
    '/large/': large,
    '/raw/large/': large,
  };
  // the shop pages also carry a recommendation slot ranked by the default `recs` model (models/recs.json, published below)
  const RECS_SLOT = {
    id: 'recs',
    selector: 'header p.lead',
    recommend: { count: 4, items: ['tent-2p'], template: '<span data-attune-item="{{id}}">{{name}}</span> ' },
  };
  const recsItems = JSON.parse(readFileSync('models/recs.json', 'utf8')).items;
  const RULES = {
    version: 'bench',
    catalog: Object.fromEntries(recsItems.map((i) => [i.id, { name: i.id.replace(/-/g, ' '), url: `/p/${i.id}` }])),
    pages: [
      {
        path: '/c/landing/',
        pageType: 'landing',
        slots: [
          {
            id: 'hero',
            selector: 'header.masthead h1',
            candidates: ['control', 'benefit'],
            variants: { benefit: { text: 'Personalize every page in under a millisecond' } },
          },
          { id: 'cta', selector: '#submitButton', candidates: ['short'], variants: { short: { text: 'Join' } } },
        ],
      },
      {
        path: '/c/shop/',
        pageType: 'category',
        slots: [
          { id: 'hero', selector: 'header h1', candidates: ['sale'], variants: { sale: { text: 'Winter sale' } } },
          { id: 'names', selector: 'h5.fw-bolder', candidates: ['upper'], variants: { upper: { attrs: { 'data-x': '1' } } } },
          RECS_SLOT,
        ],
      },
      {
        path: '/landing/',
        pageType: 'landing',
        slots: [
          {
            id: 'hero',
            selector: 'header.masthead h1',
            candidates: ['control', 'benefit'],
            variants: { benefit: { text: 'Personalize every page in under a millisecond' } },
          },
          { id: 'cta', selector: '#submitButton', candidates: ['short'], variants: { short: { text: 'Join' } } },
        ],
      },
      {
        path: '/shop/',
        pageType: 'category',
        slots: [
          { id: 'hero', selector: 'header h1', candidates: ['sale'], variants: { sale: { text: 'Winter sale' } } },
          { id: 'names', selector: 'h5.fw-bolder', candidates: ['upper'], variants: { upper: { attrs: { 'data-x': '1' } } } },
          RECS_SLOT,
        ],
      },
      {
        path: '/large/',
        pageType: 'category',
        slots: [
          { id: 'hero', selector: 'header h1', candidates: ['sale'], variants: { sale: { text: 'Winter sale' } } },
          { id: 'cta', selector: 'nav .btn', candidates: ['cart'], variants: { cart: { text: 'Basket' } } },
        ],
      },
      // the same page with one slot matching every product name (320 elements): each matched
      // element costs one JS handler call inside HTMLRewriter, the dominant cost here
      {
        path: '/large-many/',
        pageType: 'category',
        slots: [
          { id: 'hero', selector: 'header h1', candidates: ['sale'], variants: { sale: { text: 'Winter sale' } } },
          { id: 'names', selector: 'h5.fw-bolder', candidates: ['upper'], variants: { upper: { attrs: { 'data-x': '1' } } } },
        ],
      },
    ],
  };

  const origin = createServer((req, res) => {
    const body = BODIES[req.url];
    if (!body) return res.writeHead(404).end();
    // only /c/… may be kept by the edge cache; everything else goes to the origin every time
    const cc = req.url.startsWith('/c/') ? 'public, max-age=600' : 'no-cache';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.byteLength, 'cache-control': cc });
    res.end(body);
  });
  await new Promise((ok) => origin.listen(0, '127.0.0.1', ok));
  const originUrl = `http://127.0.0.1:${origin.address().port}`;

  // The built Worker in Miniflare (one workerd), as the other HTTP benches run it: `wrangler dev`
  // puts a second workerd process (its proxy worker) in front, whose hop cost ~12 ms at p50 on
  // this busy VM and buried the millisecond this bench is after. KV is seeded from Node.
  const options = benchWorkerOptions('bench-admin-token-0123456789abcdef');
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      ...(modules ?? workerModules('dist', buildWorker('dist'))),
      ...extra,
      ...options,
      bindings: { ...options.bindings, ORIGIN_URL: originUrl },
    }),
  );
  const worker = (await mf.ready).toString().replace(/\/$/, '');
  const kv = await mf.getKVNamespace('KV');
  await kv.put('config/page-rules', JSON.stringify(RULES));
  await publishDirectory(
    'models',
    {
      storage: { getBytes: (k) => kv.get(k, 'arrayBuffer'), getText: (k) => kv.get(k, 'text'), put: (k, v) => kv.put(k, v) },
      putJson: (k, v) => kv.put(k, JSON.stringify(v)),
      close: async () => {},
    },
    undefined,
    () => {},
  );
  return { origin, originUrl, mf, worker, kv, landing, shop, large };
}
