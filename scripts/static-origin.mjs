// A tiny static web server on loopback: the demo site's origin for `npm start`, and the
// origin the browser tests and benchmarks put behind the proxy. `/x` serves `x.html` when it
// exists, `/x/` serves `x/index.html`. `headers(path)` adds response headers per path.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

async function isFile(p) {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** The file a URL path maps to inside `root`, or null (never outside `root`). */
export async function resolveFile(root, pathname) {
  const rel = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '');
  if (rel.startsWith('..')) return null;
  const base = join(root, rel);
  for (const p of [base, join(base, 'index.html'), `${base}.html`]) if (await isFile(p)) return p;
  return null;
}

export function startStaticOrigin({ root, port = 0, host = '127.0.0.1', headers = () => ({}) }) {
  const dir = resolve(root);
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://origin');
      const file = await resolveFile(dir, url.pathname);
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': body.byteLength,
        'cache-control': 'public, max-age=60',
        ...headers(url.pathname),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      ok({
        server,
        url: `http://${host}:${actual}`,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
