/**
 * Gzip on the wire for OpenRTB: exchanges send `Content-Encoding: gzip` bodies to save
 * bandwidth at high QPS, and accept gzip answers. Bodies are decompressed as a stream with a
 * cap on the decompressed size, so a small gzip bomb cannot blow up the isolate, and on the
 * compressed size, so a large body that inflates to little cannot keep it busy.
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
  // The compressed bytes are capped too: empty deflate blocks inflate to nothing, so a body of
  // them passes any cap on the output while the isolate spends CPU on every byte.
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const compressed = capped(req.body, maxBytes);
  const inflated = new Request(req.url, { method: 'POST', body: compressed.stream.pipeThrough(new DecompressionStream('gzip')) });
  try {
    return await readBodyText(inflated, maxBytes);
  } catch (err) {
    if (compressed.over()) throw tooLarge(maxBytes);
    if (err instanceof HttpError) throw err;
    throw badRequest('body is not valid gzip', '(body)');
  }
}

const tooLarge = (maxBytes: number) => new HttpError(413, 'body_too_large', `body exceeds ${maxBytes} bytes (compressed or not)`);

/** `body` passed through until more than `maxBytes` went by, then cut off with an error. */
function capped(body: ReadableStream<Uint8Array>, maxBytes: number): { stream: ReadableStream<Uint8Array>; over: () => boolean } {
  let seen = 0;
  let over = false;
  const stream = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes) {
          over = true;
          controller.error(tooLarge(maxBytes));
        } else controller.enqueue(chunk);
      },
    }),
  );
  return { stream, over: () => over };
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
