/**
 * Reading and validating request bodies at the boundary: size-capped (also for chunked bodies
 * without Content-Length), JSON-parsed, checked against a zod/mini schema, and every failure
 * answered with a 4xx naming the field.
 */
import type { $ZodType, output } from 'zod/v4/core';
import { badRequest, HttpError } from './http-error.ts';
import { parseWithMessages } from './issue-message.ts';

const decoder = new TextDecoder(); // one per isolate, not per request

const tooLarge = (maxBytes: number) => new HttpError(413, 'body_too_large', `body exceeds ${maxBytes} bytes`);

/** Reads at most `maxBytes` of the body; 413 past that, without buffering the rest. */
export async function readBodyBytes(req: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!req.body) return new Uint8Array(0);
  // From the network, a declared length is the body's framing: one read of the whole, no read loop.
  if (declared >= 0) {
    const whole = new Uint8Array(await req.arrayBuffer());
    if (whole.byteLength > maxBytes) throw tooLarge(maxBytes);
    return whole;
  }
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return all;
}

/** The body as UTF-8 text, capped like `readBodyBytes`. */
export async function readBodyText(req: Request, maxBytes: number): Promise<string> {
  return decoder.decode(await readBodyBytes(req, maxBytes));
}

/**
 * An HTML form post (`application/x-www-form-urlencoded`, what a `<form method="post">` sends),
 * size-capped like every body; anything else is a 415 rather than a parse that may throw.
 */
export async function readForm(req: Request, maxBytes: number): Promise<Record<string, string>> {
  const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new HttpError(415, 'unsupported_media_type', 'expected a form post (application/x-www-form-urlencoded)', 'content-type');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(await readBodyText(req, maxBytes))) out[k] = v;
  return out;
}

/** `["slots", 0, "model"]` → `slots[0].model` */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(body)';
}

export function parseJson(text: string): unknown {
  if (text.trim() === '') throw badRequest('body is empty; expected a JSON object', '(body)');
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('body is not valid JSON', '(body)');
  }
}

export function validate<S extends $ZodType>(schema: S, data: unknown): output<S> {
  const result = parseWithMessages(schema, data);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = fieldPath(issue.path);
  throw badRequest(`${field}: ${issue.message}`, field);
}

export async function readJson<S extends $ZodType>(req: Request, schema: S, maxBytes: number): Promise<output<S>> {
  return validate(schema, parseJson(await readBodyText(req, maxBytes)));
}
