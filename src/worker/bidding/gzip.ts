/**
 * Gzip on the wire for OpenRTB: exchanges send `Content-Encoding: gzip` bodies to save
 * bandwidth at high QPS, and accept gzip answers. Bodies are decompressed as a stream with a
 * cap on the decompressed size, so a small gzip bomb cannot blow up the isolate.
 */
import { readBodyText } from '../shared/body.ts';
import { badRequest, HttpError } from '../shared/http-error.ts';

/** The request body as text, gunzipped when it says so; 415 for encodings we do not speak. */
export async function readMaybeGzip(req: Request, maxBytes: number): Promise<string> {
  const enc = (req.headers.get('content-encoding') ?? '').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return readBodyText(req, maxBytes);
  if (enc !== 'gzip' && enc !== 'x-gzip') {
    throw new HttpError(415, 'unsupported_encoding', `content-encoding "${enc}" is not supported; use gzip or none`, 'content-encoding');
  }
  if (!req.body) return '';
  const inflated = new Request(req.url, { method: 'POST', body: req.body.pipeThrough(new DecompressionStream('gzip')) });
  try {
    return await readBodyText(inflated, maxBytes);
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw badRequest('body is not valid gzip', '(body)');
  }
}

/**
 * Whether the caller accepts a gzip answer. Cloudflare rewrites `Accept-Encoding` before the
 * Worker sees it (to what its edge speaks), so the caller's own header is the one `request.cf`
 * keeps as `clientAcceptEncoding`; without `cf` (tests, some local runs) the header is the caller's.
 */
export function acceptsGzip(req: Request): boolean {
  const cf = (req as Request & { cf?: { clientAcceptEncoding?: unknown } }).cf;
  const ae = cf !== undefined && typeof cf.clientAcceptEncoding === 'string' ? cf.clientAcceptEncoding : req.headers.get('accept-encoding');
  return ae !== null && /\bgzip\b/i.test(ae) && !/\bgzip\s*;\s*q=0(\.0*)?\b/i.test(ae);
}

/** A JSON response, gzipped (and marked so) when the caller accepts it. */
export function jsonResponse(body: unknown, gzip: boolean, headers: Record<string, string>): Response {
  const text = JSON.stringify(body);
  const h = new Headers(headers);
  h.set('content-type', 'application/json');
  if (!gzip) return new Response(text, { status: 200, headers: h });
  h.set('content-encoding', 'gzip');
  h.set('vary', 'accept-encoding');
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  // `encodeBody: 'manual'`: the bytes are already gzip; the runtime must not encode them again
  return new Response(stream, { status: 200, headers: h, encodeBody: 'manual' });
}
