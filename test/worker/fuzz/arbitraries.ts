/**
 * Route-independent arbitraries for the HTTP envelope: hostile strings, random bodies in random
 * encodings, headers (cookies, credentials, protocol headers, padding), query strings and path
 * segments, and `request`, which puts them together. JSON bodies: json-arbitraries.ts. The route
 * files build valid requests from the API's schemas.
 */
import fc from 'fast-check';
import type { Encoding, FuzzBody, FuzzRequest } from './harness.ts';

export const optional = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });
/** A record whose keys may each be left out. */
export const partialRecord = <T extends Record<string, unknown>>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }) =>
  fc.record(model, { requiredKeys: [] });
export const shortText = (max: number): fc.Arbitrary<string> => fc.string({ minLength: 1, maxLength: max });

/** Text that has broken parsers, validators, headers or templates somewhere before. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '1e999',
  '0x10',
  '1_000',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '\uD800',
  'a\uDC00b',
  '\uFEFF',
  '\u202Eevil',
  '😀',
  '\u0130\u0131',
  'null',
  'undefined',
  'true',
  '${AUCTION_PRICE}',
  '{{name}}',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '"',
  '\\',
  "'",
  '%',
  '%00',
  '%zz',
  '%E0%A4%A',
  '../../etc/passwd',
  '//evil.test',
  '/\\evil.test',
  'javascript:alert(1)',
  'data:text/html,x',
  'http://[::1',
  'http://x:99999/',
  'line\r\nset-cookie: x=1',
  '\t',
  'a,b',
  'a=b; c=d',
  'exp.fz-exp',
  'fz-hero',
  'recs',
  'control',
];

const latin1Char = fc
  .integer({ min: 0x20, max: 0xff })
  .filter((c) => c !== 0x7f)
  .map((c) => String.fromCharCode(c));
/**
 * Header text: printable ASCII and tabs. A client may send other bytes, but workerd's Request
 * re-encodes them as UTF-8 (with a warning per header), so the Worker could not see them anyway.
 */
const headerChar = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constant('\t') },
);

export const longString = fc
  .tuple(fc.integer({ min: 60, max: 70_000 }), fc.constantFrom('a', 'é', '😀', '\u0000', '\uD800', '%', ' '))
  .map(([n, c]) => c.repeat(n));

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  { weight: 1, arbitrary: longString },
);

export const encoding: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 14, arbitrary: fc.constant('identity' as const) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Encoding>('gzip', 'gzip-label-only', 'gzip-corrupt', 'gzip-truncated', 'deflate-label', 'odd-label'),
  },
);

export const chunked = fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });

/** A body of random bytes or text: binary, invalid UTF-8, big (past every route's cap), or empty. */
export const randomBodyContent: fc.Arbitrary<{ text?: string; bytes?: Uint8Array }> = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((bytes) => ({ bytes })),
  fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ text })),
  fc.jsonValue({ maxDepth: 4 }).map((v) => ({ text: JSON.stringify(v) })),
  fc.constantFrom('', ' ', 'null', '[]', '{}', '""', '0', 'true', '\uFEFF{}', '[,]', '{"a":}').map((text) => ({ text })),
  fc.constantFrom(65 * 1024, 513 * 1024, 1100 * 1024).map((n) => ({ bytes: new Uint8Array(n).fill(0x20) })),
);

export const randomBody: fc.Arbitrary<FuzzBody> = fc
  .tuple(randomBodyContent, encoding, chunked)
  .map(([content, e, c]) => ({ ...content, encoding: e, chunked: c }));

/** A header value the Request constructor takes: no CR, LF or NUL. */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: headerChar, maxLength: 40 }),
  fc.constantFrom('', ' ', 'null', '%00', '%C3%BF', 'a'.repeat(8000), '"quoted"', 'x;y=z', '*'),
);

const b64ish = fc.string({
  unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/.%'),
  maxLength: 60,
});

export const visitorId = fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/);

/** Cookies: ours with forged or random values, others, and malformed pairs. */
export const cookieHeader: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.oneof(visitorId, b64ish, fc.constant('')).map((v) => `att_vid=${v}`),
      fc
        .oneof(
          b64ish,
          fc.tuple(b64ish, b64ish).map(([a, b]) => `${a}.${b}`),
          fc.constant('x'.repeat(4000)),
        )
        .map((v) => `att_p=${v}`),
      fc
        .oneof(
          b64ish,
          fc.integer().map((n) => `admin-ui%3A${n}.${'A'.repeat(22)}`),
        )
        .map((v) => `att_admin=${v}`),
      fc
        .tuple(fc.string({ unit: headerChar, maxLength: 8 }), fc.string({ unit: headerChar, maxLength: 20 }))
        .map(([k, v]) => `${k}=${v}`.replace(/;/g, '')),
      fc.constantFrom(';;', '=', 'att_vid', 'att_vid=a=b', '=att_p', 'att_p="quoted"', 'att_vid=%zz'),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((xs) => xs.join('; '));

export const authorization = (tokens: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...tokens).map((t) => `Bearer ${t}`),
    fc.constantFrom(...tokens).map((t) => `bearer    ${t}   `),
    fc.constantFrom(...tokens).map((t) => `Bearer ${t}x`),
    b64ish.map((t) => `Bearer ${t}`),
    headerValue.map((t) => `Bearer ${t}`),
    fc.constantFrom('Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Digest x', 'Bearer a b', ''),
  );

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
export const clientAddress = fc.oneof(
  ipv4,
  fc.ipV6(),
  fc.constantFrom('127.0.0.1', '::1', '::ffff:10.0.0.1', '2001:db8::1', '1::2::3', 'not-an-ip', '', '2001:db8:0:0:0:0:0:0:1'),
);

export const USER_AGENTS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'Googlebot/2.1 (+http://www.google.com/bot.html)',
  'curl/8.5.0',
];

export const urlLike = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.constantFrom(
    'https://shop.example/pricing?utm_medium=cpc&utm_source=google&utm_campaign=x',
    'https://www.google.com/',
    'http://attune.test/p/shoe-1',
    'https://news.example/a?b=%zz',
    'http://[::1]/',
    'https://xn--nxasmq6b.example/',
  ),
  nastyString,
);

/** One header a client could send, ours and the usual ones, with odd values. */
export const anyHeader: fc.Arbitrary<readonly [string, string]> = fc.oneof(
  fc
    .constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/json; charset=utf-16',
      '',
    )
    .map((v) => ['content-type', v] as const),
  headerValue.map((v) => ['content-type', v] as const),
  cookieHeader.map((v) => ['cookie', v] as const),
  authorization(['x']).map((v) => ['authorization', v] as const),
  fc.oneof(fc.constantFrom(...USER_AGENTS), headerValue).map((v) => ['user-agent', v] as const),
  urlLike.filter((u) => /^[\x20-\x7e]*$/.test(u)).map((v) => ['referer', v] as const),
  fc.constantFrom('1', '0', 'yes').map((v) => ['sec-gpc', v] as const),
  fc.constantFrom('1', '0').map((v) => ['dnt', v] as const),
  fc.constantFrom('http://attune.test', 'https://evil.test', 'null', '*').map((v) => ['origin', v] as const),
  fc
    .constantFrom('gzip', 'gzip;q=0', 'gzip; q=0.0', 'br', '*', 'identity', 'GZIP', 'x-gzip, deflate')
    .map((v) => ['accept-encoding', v] as const),
  fc
    .oneof(fc.constantFrom('2.5', '2.6', '2.6.1', '2.5.0', '3.0', '', ' 2.6 ', '2.6.x', '2'), headerValue)
    .map((v) => ['x-openrtb-version', v] as const),
  fc.constantFrom('text/html', 'application/json', '*/*', 'text/html;q=0').map((v) => ['accept', v] as const),
  fc.constantFrom('bytes=0-10', 'bytes=-5', 'bytes=abc', 'bytes=0-0,5-9').map((v) => ['range', v] as const),
  headerValue.map((v) => ['if-none-match', v] as const),
  clientAddress.map((v) => ['cf-connecting-ip', v] as const),
  fc.constantFrom('US', 'DE', 'XX', 'T1', 'us', '').map((v) => ['cf-ipcountry', v] as const),
  fc.constantFrom('prefetch', 'prefetch;prerender').map((v) => ['sec-purpose', v] as const),
  fc.constantFrom('for=1.2.3.4;host=evil.test', 'host=evil.test').map((v) => ['forwarded', v] as const),
  fc.constantFrom('POST', 'content-type, x-evil').map((v) => ['access-control-request-method', v] as const),
  fc.integer({ min: 1, max: 16_000 }).map((n) => ['x-fuzz-pad', 'p'.repeat(n)] as const),
  fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), headerValue).map(([k, v]) => [k, v] as const),
);

/** Headers a route wants (content type, credentials), sometimes dropped, plus random ones. */
export function headers(
  wanted: fc.Arbitrary<ReadonlyArray<readonly [string, string]>>,
): fc.Arbitrary<ReadonlyArray<readonly [string, string]>> {
  return fc
    .tuple(
      wanted,
      fc.array(fc.oneof({ weight: 8, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }), { maxLength: 4 }),
      fc.array(anyHeader, { maxLength: 4 }),
    )
    .map(([w, keep, extra]) => [...w.filter((_, i) => keep[i] !== false), ...extra]);
}

const queryChar = fc.oneof(
  fc.constantFrom(..."abcxyz019-_.~!*()'=&+%/?:@,;$ "),
  fc.constantFrom('%zz', '%', '%00', '%0A', '%E0%A4%A', '%F0%9F%98%80', '%2F', '%26', '%3D', '%25', '[]'),
  latin1Char,
);

/** A query string: pairs of known and random names (encoded), or raw text with stray escapes. */
export function queryString(names: readonly string[], value: fc.Arbitrary<string> = nastyString): fc.Arbitrary<string> {
  const name = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .array(fc.tuple(name, value), { maxLength: 6 })
        .map((ps) => ps.map(([k, v]) => `${encodeURIComponent(k)}=${safeEncode(v)}`).join('&')),
    },
    { weight: 1, arbitrary: fc.string({ unit: queryChar, maxLength: 40 }).map((s) => s.replace(/#/g, '%23')) },
  );
}

/** encodeURIComponent, but lone surrogates (which it refuses) go out as a stray `%ED%A0%80`. */
export function safeEncode(s: string): string {
  return s.replace(/[\uD800-\uDFFF]/g, '\uFFFD') === s
    ? encodeURIComponent(s)
    : encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '')) + '%ED%A0%80';
}

/** A path segment: a known name, an encoded random one, or a raw hostile one. */
export function segment(known: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...known) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map(safeEncode) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '%00',
        '%2F',
        '..',
        '%2e%2e',
        '%zz',
        '%',
        '%E0%A4%A',
        'a%2Fb',
        ';',
        '%20',
        '~',
        '.',
        'exp.fz-exp',
        'x'.repeat(300),
        '%C0%AE',
        'A',
        '0',
        '-1',
        '1e3',
        'NaN',
      ),
    },
  );
}

export const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const;

/** A request with a method, path, query, headers and optional body. */
export function request(parts: {
  method: fc.Arbitrary<string>;
  path: fc.Arbitrary<string>;
  query?: fc.Arbitrary<string | undefined>;
  headers: fc.Arbitrary<ReadonlyArray<readonly [string, string]>>;
  body?: fc.Arbitrary<FuzzBody | undefined>;
}): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      method: parts.method,
      path: parts.path,
      query: parts.query ?? fc.constant(undefined),
      headers: parts.headers,
      body: parts.body ?? fc.constant(undefined),
    })
    .map((r) => ({ ...r, query: r.query ?? undefined, body: r.body ?? undefined }) as FuzzRequest);
}
