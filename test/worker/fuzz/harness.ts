/**
 * The fuzz suites' harness: a request described as plain data (so fast-check can shrink it and
 * print it), sent to the Worker through `exports.default.fetch` only, and the properties every
 * answer must hold: no 5xx, an answer (headers and whole body) within HANG_MS, the JSON error
 * shape on a 4xx of a JSON API, and no secret of the test bindings in it unless the request
 * itself carried it.
 *
 * Runs: fast-check's random seed each run (printed with the shrunk counterexample on failure).
 * `FUZZ_RUNS=n` scales every property to n runs, `FUZZ_SEED=s` replays a seed (vitest.config.ts
 * provides both as `fuzz`).
 */
import { env, exports } from 'cloudflare:workers';
import fc from 'fast-check';
import { inject } from 'vitest';

/** How long an answer may take, headers and body together. */
export const HANG_MS = 5_000;

export type Encoding = 'identity' | 'gzip' | 'gzip-label-only' | 'gzip-corrupt' | 'gzip-truncated' | 'deflate-label' | 'odd-label';

export interface FuzzBody {
  /** text is sent as UTF-8; bytes as they are */
  readonly text?: string;
  readonly bytes?: Uint8Array;
  readonly encoding: Encoding;
  /** sent as a stream in small chunks: no Content-Length */
  readonly chunked: boolean;
}

export interface FuzzRequest {
  readonly method: string;
  /** as sent, percent-escapes and all; starts with "/" */
  readonly path: string;
  /** without the "?"; undefined for none */
  readonly query?: string;
  /** a list, so a name can repeat */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body?: FuzzBody;
}

/** What kind of answer a route gives: JSON errors, or pages (the admin UI, the proxy) whose errors may be HTML. */
export type Surface = 'json' | 'page';

const SETTINGS = inject('fuzz');

/** n runs by default, or FUZZ_RUNS for every property when it is set. */
export function runs(n: number): number {
  const scaled = Number(SETTINGS.runs);
  return Number.isInteger(scaled) && scaled > 0 ? scaled : n;
}

/** A test timeout that grows with the runs: `msPerRun` is generous for a busy machine. */
export const testTimeout = (n: number, msPerRun = 150): number => 30_000 + runs(n) * msPerRun;

/** fast-check parameters: the given runs, a fixed seed only when FUZZ_SEED asks for one. */
export function params<T = unknown>(n: number): fc.Parameters<T> {
  const seed = Number(SETTINGS.seed);
  return { numRuns: runs(n), ...(SETTINGS.seed !== '' && Number.isInteger(seed) ? { seed } : {}) };
}

/**
 * Every secret the test bindings hold (vitest.config.ts), values only: bindings named like a
 * secret, token or key, comma lists split, `exchangeId:key` entries cut to the key. Read by name
 * pattern so a renamed secret is still covered.
 */
export const SECRETS: readonly string[] = Object.entries(env as unknown as Record<string, unknown>)
  .filter(([name, value]) => typeof value === 'string' && /SECRET|TOKEN|KEY/.test(name))
  .flatMap(([, value]) => (value as string).split(','))
  .map((s) => s.slice(s.indexOf(':') + 1).trim())
  .filter((s) => s.length >= 8);

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer());
}

/** The body bytes and the headers its encoding adds. */
async function encodeBody(b: FuzzBody): Promise<{ bytes: Uint8Array; headers: [string, string][] }> {
  const plain = b.bytes ?? new TextEncoder().encode(b.text ?? '');
  switch (b.encoding) {
    case 'identity':
      return { bytes: plain, headers: [] };
    case 'gzip':
      return { bytes: await gzip(plain), headers: [['content-encoding', 'gzip']] };
    case 'gzip-label-only':
      return { bytes: plain, headers: [['content-encoding', 'gzip']] };
    case 'gzip-corrupt': {
      const z = await gzip(plain);
      if (z.length > 12) z[z.length >> 1]! ^= 0x5a;
      z[z.length - 1]! ^= 0xff; // the length or CRC trailer disagrees
      return { bytes: z, headers: [['content-encoding', 'gzip']] };
    }
    case 'gzip-truncated': {
      const z = await gzip(plain);
      return { bytes: z.subarray(0, Math.max(1, z.length >> 1)), headers: [['content-encoding', 'gzip']] };
    }
    case 'deflate-label':
      return { bytes: plain, headers: [['content-encoding', 'deflate']] };
    case 'odd-label':
      return { bytes: plain, headers: [['content-encoding', 'x-gzip, br;q=1']] };
  }
}

function chunkedStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(ctl) {
      if (at >= bytes.length) return ctl.close();
      ctl.enqueue(bytes.slice(at, at + 997));
      at += 997;
    },
  });
}

/** The Request a description stands for (the Request constructor's own rules applied). */
export async function toRequest(r: FuzzRequest): Promise<Request> {
  const headers = new Headers();
  for (const [k, v] of r.headers) headers.append(k, v);
  const hasBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
  let body: BodyInit | undefined;
  if (hasBody) {
    const enc = await encodeBody(r.body!);
    for (const [k, v] of enc.headers) headers.set(k, v);
    body = r.body!.chunked ? chunkedStream(enc.bytes) : enc.bytes;
  }
  // redirects are answers to check, not to follow (a click's landing page is another host); the
  // admin page answers only on ADMIN_HOST (vitest.config.ts), so its paths go there
  const host = r.path.startsWith('/ui/') ? 'admin.attune.test' : 'attune.test';
  return new Request(`http://${host}${r.path}${r.query === undefined ? '' : `?${r.query}`}`, {
    method: r.method,
    headers,
    body,
    redirect: 'manual',
  });
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** Lines the Worker logged with console.error while a request was answered (its stack, if it had one). */
const logged: string[] = [];
const originalError = console.error;
console.error = (...args: unknown[]) => {
  logged.push(args.map(String).join(' '));
  if (logged.length > 50) logged.shift();
  originalError(...args);
};

/** Sends a request and reads the whole answer, or throws when that takes longer than HANG_MS. */
export async function send(r: FuzzRequest): Promise<Answer> {
  const req = await toRequest(r);
  let timer: ReturnType<typeof setTimeout> | null = null;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no complete answer within ${HANG_MS} ms (hang)`)), HANG_MS);
  });
  try {
    return await Promise.race([
      (async () => {
        const res = await exports.default.fetch(req);
        // bytes, decoded leniently: a body need not be UTF-8 (gzip, the snippet), only complete
        const bytes = new Uint8Array(await res.arrayBuffer());
        return { status: res.status, headers: res.headers, text: new TextDecoder('latin1').decode(bytes) };
      })(),
      late,
    ]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

function requestText(r: FuzzRequest): string {
  const body = r.body?.text ?? (r.body?.bytes ? new TextDecoder('latin1').decode(r.body.bytes) : '');
  return `${r.path}?${r.query ?? ''}\n${r.headers.map(([k, v]) => `${k}: ${v}`).join('\n')}\n${body}`;
}

/**
 * Paths the JSON API answers (docs/api.md), once the URL parser has resolved `..` and `%2e`
 * segments: anything else goes to the proxy, whose answers are the origin's.
 */
const JSON_API = /^\/(?:v1|admin|openrtb2)(?:\/|$)|^\/(?:openapi\.json|healthz)$/;

/**
 * The proxy's documented answer when the origin is slow (docs/proxy-mode.md): 504 past
 * ORIGIN_TIMEOUT_MS, 1 s in the tests, which the test origin can exceed on a loaded machine.
 * (502, unreachable, is not excused: nothing the fuzzer sends should make the origin unreachable.)
 */
const originFailed = (a: Answer): boolean => a.status === 504 && a.headers.get('x-attune-origin') === 'timeout';

/** Why an answer breaks the properties, or null when it holds them all. */
export function violation(r: FuzzRequest, a: Answer, surface: Surface): string | null {
  if (a.status >= 500 && !originFailed(a)) return `status ${a.status}: ${a.text.slice(0, 400)}`;
  if (surface === 'json' && !JSON_API.test(new URL(`http://attune.test${r.path}`).pathname)) surface = 'page';
  const sent = requestText(r);
  const answered = `${[...a.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${a.text}`;
  for (const s of SECRETS) if (answered.includes(s) && !sent.includes(s)) return `the answer holds a secret (${s.slice(0, 6)}…)`;
  if (r.method === 'HEAD') return a.text === '' ? null : 'HEAD with a body';
  if (a.status >= 400 && surface === 'json') {
    const type = a.headers.get('content-type') ?? '';
    if (!type.startsWith('application/json')) return `${a.status} with content-type "${type}", not a JSON error`;
    let body: unknown;
    try {
      body = JSON.parse(a.text);
    } catch {
      return `${a.status} whose body is not JSON: ${a.text.slice(0, 200)}`;
    }
    const e = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    if (typeof e?.code !== 'string' || typeof e.message !== 'string')
      return `${a.status} without { error: { code, message } }: ${a.text.slice(0, 200)}`;
  }
  if ((a.status === 204 || a.status === 304) && a.text !== '') return `${a.status} with a body`;
  return null;
}

/** Sends `r` and throws (with the Worker's error log) unless the answer holds every property. */
export async function expectSound(r: FuzzRequest, surface: Surface = 'json'): Promise<Answer> {
  const before = logged.length;
  let a: Answer;
  try {
    a = await send(r);
  } catch (err) {
    throw new Error(`${String(err)}\nworker log:\n${logged.slice(before).join('\n')}`);
  }
  const bad = violation(r, a, surface);
  if (bad !== null) throw new Error(`${bad}\nworker log:\n${logged.slice(before).join('\n').slice(0, 4000)}`);
  return a;
}

/**
 * Runs `n` cases (or FUZZ_RUNS) of `arb` through `expectSound`. `known` names inputs of a finding
 * not fixed yet, which are skipped (fc.pre) so the rest of the property keeps running; its
 * counterexample is an `it.fails` test of its own until the fix.
 */
export async function fuzz(
  arb: fc.Arbitrary<FuzzRequest>,
  n: number,
  surface: Surface = 'json',
  known?: (r: FuzzRequest) => boolean,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(arb, async (r) => {
      if (known !== undefined) fc.pre(!known(r));
      await expectSound(r, surface);
    }),
    params<[FuzzRequest]>(n),
  );
}

/** The deepest nesting of JSON brackets in a request's body text, as sent and form-decoded. */
export function bodyNesting(r: FuzzRequest): number {
  const text = r.body?.text ?? '';
  let decoded = '';
  try {
    decoded = decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {}
  return Math.max(nesting(text), nesting(decoded));
}

function nesting(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 91 || c === 123) max = Math.max(max, ++depth);
    else if ((c === 93 || c === 125) && depth > 0) depth--;
  }
  return max;
}
