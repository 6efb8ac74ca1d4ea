/**
 * GET /: a small page that shows a decision happening, so `npm start` has something to look
 * at in a browser. It asks /v1/decide for the default `hero-headline` model and renders the
 * chosen headline with the full answer beneath it.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../types.ts';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>attune demo</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:2rem;margin:.2em 0}code,pre{background:#f4f4f4;border-radius:4px}pre{padding:1rem;overflow:auto;font-size:13px}
.muted{color:#777}</style></head>
<body>
<p class="muted">attune is running. This headline was chosen for you at the edge:</p>
<h1 id="hero" data-attune-slot="hero">Welcome</h1>
<p id="cta" data-attune-slot="cta">Start your free trial</p>
<p class="muted">Reload to see stickiness; visit <a href="/?utm_medium=cpc">as a paid visitor</a>, or read the <a href="/openapi.json">API</a>.</p>
<pre id="out">deciding…</pre>
<script>
const copy = {
  hero: { control: 'Welcome', benefit: 'Personalize every page in under a millisecond', urgency: 'Launch your first test today', social: 'Trusted by growth teams everywhere' },
  cta: { control: 'Start your free trial', demo: 'Book a demo', pricing: 'See pricing' },
};
fetch('/v1/decide', { method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ page: { url: location.href, referrer: document.referrer }, slots: [
    { id: 'hero', model: 'hero-headline' }, { id: 'cta', candidates: Object.keys(copy.cta) } ] }) })
  .then((r) => r.json().then((j) => ({ r, j })))
  .then(({ r, j }) => {
    for (const d of j.decisions || []) { const el = document.getElementById(d.slot); if (el && d.variant && copy[d.slot][d.variant]) el.textContent = copy[d.slot][d.variant]; }
    document.getElementById('out').textContent = (r.headers.get('x-attune-fallback') ? 'x-attune-fallback: ' + r.headers.get('x-attune-fallback') + '\\n' : '') + JSON.stringify(j, null, 2);
  })
  .catch((e) => { document.getElementById('out').textContent = String(e); });
</script>
</body></html>`;

export const demoRoutes = new Hono<AppEnv>().get('/', (c) => c.html(PAGE));
