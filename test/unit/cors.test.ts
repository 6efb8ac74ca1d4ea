import { Hono, type MiddlewareHandler } from 'hono';
import { cors as honoCors } from 'hono/cors';
import { describe, expect, it } from 'vitest';
import { cors } from '../../src/worker/shared/cors.ts';

const OPTIONS = {
  methods: ['GET', 'POST', 'OPTIONS'],
  headers: ['content-type'],
  expose: ['x-attune-fallback', 'retry-after'],
  maxAgeSeconds: 86400,
};

function appWith(mw: MiddlewareHandler): Hono {
  const app = new Hono();
  app.use('/v1/*', mw);
  app.post('/v1/decide', (c) => {
    c.header('x-attune-fallback', 'hero=model');
    c.header('set-cookie', 'a=1', { append: true });
    c.header('set-cookie', 'b=2', { append: true });
    return c.json({ ok: true });
  });
  app.get('/v1/go', () => Response.redirect('https://shop.example/', 302)); // immutable headers
  return app;
}

const headersOf = (r: Response) => [...r.headers.entries()].map(([k, v]) => `${k}: ${v}`).sort();

describe('CORS for /v1/*', () => {
  const requests: [string, RequestInit][] = [];
  for (const origin of [undefined, 'https://shop.example', 'https://evil.example']) {
    const o: Record<string, string> = origin ? { origin } : {};
    requests.push(['/v1/decide', { method: 'POST', headers: { ...o, 'content-type': 'application/json' }, body: '{}' }]);
    requests.push(['/v1/decide', { method: 'OPTIONS', headers: { ...o, 'access-control-request-method': 'POST' } }]);
    requests.push(['/v1/go', { headers: o }]);
    requests.push(['/v1/none', { method: 'POST', headers: o }]);
  }

  for (const origins of ['*', ['https://shop.example', 'https://www.shop.example']] as const) {
    it(`answers with the same status, headers and body as Hono's cors (origins ${JSON.stringify(origins)})`, async () => {
      const ours = appWith(cors({ origins, ...OPTIONS }));
      const theirs = appWith(
        honoCors({
          origin: origins === '*' ? '*' : [...origins],
          allowMethods: OPTIONS.methods,
          allowHeaders: OPTIONS.headers,
          exposeHeaders: OPTIONS.expose,
          maxAge: OPTIONS.maxAgeSeconds,
        }),
      );
      for (const [path, init] of requests) {
        const a = await ours.request(path, init);
        const b = await theirs.request(path, init);
        const what = `${init.method ?? 'GET'} ${path} from ${JSON.stringify(init.headers)}`;
        expect(a.status, what).toBe(b.status);
        expect(headersOf(a), what).toEqual(headersOf(b));
        expect(await a.text(), what).toBe(await b.text());
      }
    });
  }

  it('grants an allowed origin on a route whose response headers are immutable', async () => {
    const res = await appWith(cors({ origins: ['https://shop.example'], ...OPTIONS })).request('/v1/go', {
      headers: { origin: 'https://shop.example' },
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(res.headers.get('location')).toBe('https://shop.example/');
  });
});
