/**
 * Requests to the signed win, billing and loss notices and the click tracker, starting from URLs
 * a real bid handed out (fixtures.ts): the exchange's macros filled in every way, foreign and
 * repeated parameters, the signed part altered, the wrong kind's URL, GET and POST.
 */
import fc from 'fast-check';
import { headers, nastyString, queryString, request, safeEncode } from './arbitraries.ts';
import type { FuzzRequest } from './harness.ts';
import { jsonBody } from './json-arbitraries.ts';

// ---- notices and clicks

const macroValue = fc.oneof(
  fc.constantFrom(
    '1.5',
    '0',
    '0.01',
    '-1',
    '1e308',
    '1e999',
    'NaN',
    'Infinity',
    '',
    '${AUCTION_PRICE}',
    '1,5',
    ' 2',
    '0x10',
    '99999999999999999999',
    '27.8032',
    '27.81',
  ),
  fc.double({ noNaN: true }).map(String),
  nastyString,
);
const macros = fc
  .record(
    {
      price: macroValue,
      mtw: macroValue,
      cur: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('USD', 'EUR', 'eur', 'JPY', 'ZZZ', '', '${AUCTION_CURRENCY}', 'US') },
        { weight: 1, arbitrary: nastyString },
      ),
      reason: fc.oneof(fc.constantFrom('1', '2', '102', '${AUCTION_LOSS}', '-1'), nastyString),
      auc: fc.oneof(fc.uuid(), fc.constant('${AUCTION_ID}'), nastyString),
      c: fc.constantFrom('fz-cpm', 'other'),
      cb: fc.nat().map(String),
    },
    { requiredKeys: [] },
  )
  .map((m) =>
    Object.entries(m)
      .map(([k, v]) => `${k}=${safeEncode(v)}`)
      .join('&'),
  );

export type QueryEdit =
  | { op: 'keep' }
  | { op: 'flip'; at: number }
  | { op: 'drop'; at: number }
  | { op: 'dupe'; at: number }
  | { op: 'set'; at: number; value: string };

const edit: fc.Arbitrary<QueryEdit> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ op: 'keep' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('flip' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dupe' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: nastyString }) },
);

/** The signed part of a query, edited: a character changed, a pair dropped, repeated or given another value. */
export function editSigned(signed: string, e: QueryEdit): string {
  const pairs = signed.split('&');
  const i = 'at' in e ? e.at % pairs.length : 0;
  switch (e.op) {
    case 'keep':
      return signed;
    case 'flip': {
      const at = e.at % signed.length;
      const c = signed[at] === 'A' ? 'B' : 'A';
      return signed.slice(0, at) + c + signed.slice(at + 1);
    }
    case 'drop':
      return pairs.filter((_, j) => j !== i).join('&');
    case 'dupe':
      return [...pairs.slice(0, i + 1), pairs[i]!, ...pairs.slice(i + 1)].join('&');
    case 'set':
      return pairs.map((p, j) => (j === i ? `${p.split('=')[0]}=${safeEncode(e.value)}` : p)).join('&');
  }
}

/** `…?<signed>&s=<sig>` and the rest, from a notice or click URL. */
export function splitSigned(pathAndQuery: string): { path: string; signed: string } {
  const q = pathAndQuery.indexOf('?');
  const query = pathAndQuery.slice(q + 1);
  const s = query.indexOf('&s=');
  const end = query.indexOf('&', s + 3);
  return { path: pathAndQuery.slice(0, q), signed: end === -1 ? query : query.slice(0, end) };
}

export function noticeRequest(urls: { win: string; billing: string; loss: string }): fc.Arbitrary<FuzzRequest> {
  const parts = [urls.win, urls.billing, urls.loss].map(splitSigned);
  const paths = ['/openrtb2/win', '/openrtb2/billing', '/openrtb2/loss'];
  const query = fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(fc.constantFrom(...parts), edit, macros)
        .map(([p, e, m]) => ({ q: `${editSigned(p.signed, e)}${m ? `&${m}` : ''}`, path: p.path })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...paths),
          queryString(['d', 'c', 'cr', 'imp', 'bid', 'bc', 't', 'pub', 'u', 'x', 's', 'price', 'mtw', 'cur']),
        )
        .map(([path, q]) => ({ q, path })),
    },
  );
  return fc
    .tuple(
      query,
      fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...paths) }),
      fc.constantFrom('GET', 'GET', 'POST'),
      headers(fc.constant([])),
      fc.option(jsonBody(fc.jsonValue({ maxDepth: 2 })), { nil: undefined, freq: 4 }),
    )
    .map(([{ q, path }, other, method, h, body]) => ({ method, path: other ?? path, query: q, headers: h, body }));
}

export function clickRequest(click: string): fc.Arbitrary<FuzzRequest> {
  const { signed } = splitSigned(click);
  const query = fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(edit, fc.option(queryString(['utm', 'cb', 'c', 'x']), { nil: undefined }))
        .map(([e, extra]) => `${editSigned(signed, e)}${extra ? `&${extra}` : ''}`),
    },
    { weight: 1, arbitrary: queryString(['d', 'c', 'cr', 'imp', 't', 'x', 's']) },
  );
  return request({
    method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST'),
    path: fc.constant('/openrtb2/click'),
    query,
    headers: headers(fc.constantFrom([], [['sec-purpose', 'prefetch']], [['purpose', 'prerender']], [['x-moz', 'prefetch']])),
  });
}
