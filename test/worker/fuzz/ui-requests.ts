/**
 * Requests to the admin page (`/ui/experiments…`): login and logout, the list, the create form and
 * the action forms, with the real session cookie, a forged one or none, same-origin or not.
 */
import fc from 'fast-check';
import { cookieHeader, headers, nastyString, randomBody, request, safeEncode, segment, shortText } from './arbitraries.ts';
import { ACTIONS, experimentKey, keyPath } from './admin-requests.ts';
import type { FuzzBody, FuzzRequest } from './harness.ts';

// ---- the admin page's forms

const formBody = (fields: fc.Arbitrary<Record<string, string>>): fc.Arbitrary<FuzzBody> =>
  fc.oneof(
    {
      weight: 5,
      arbitrary: fields.map((f) => ({
        text: Object.entries(f)
          .map(([k, v]) => `${encodeURIComponent(k)}=${safeEncode(v)}`)
          .join('&'),
        encoding: 'identity' as const,
        chunked: false,
      })),
    },
    { weight: 1, arbitrary: randomBody },
  );

const createForm = fc.record(
  {
    key: fc.oneof(experimentKey, nastyString),
    name: fc.oneof(shortText(40), nastyString),
    arms: fc.oneof(
      fc
        .array(
          fc.tuple(fc.stringMatching(/^[a-z0-9]{1,6}$/), fc.string({ maxLength: 30 })).map(([k, v]) => `${k} | ${v}`),
          { maxLength: 5 },
        )
        .map((l) => l.join('\r\n')),
      // a JSON arm nested deep (with payloadType json): what a hand-written payload could be
      fc.integer({ min: 64, max: 2_700 }).map((n) => `a | ${'['.repeat(n)}${']'.repeat(n)}\nb | 1`),
      nastyString,
    ),
    payloadType: fc.constantFrom('text', 'html', 'url', 'json', 'xml'),
    goals: fc.constantFrom('click', 'click, purchase', '', ',,,'),
    algorithm: fc.constantFrom('thompson', 'ucb1', 'epsilon-greedy', 'linear-thompson', 'nope', ''),
    floor: fc.constantFrom('0.01', '0', '0.5', '1', '-1', 'x', '1e999', ''),
    traffic: fc.constantFrom('1', '0.5', '2', 'NaN', ''),
    publishSeconds: fc.constantFrom('5', '0', '99999', '1.5', ''),
  },
  { requiredKeys: [] },
);

export function uiRequest(session: string): fc.Arbitrary<FuzzRequest> {
  const cookie = fc.oneof(
    { weight: 6, arbitrary: fc.constant(session) },
    { weight: 1, arbitrary: cookieHeader },
    { weight: 1, arbitrary: fc.constant(null) },
  );
  const uiHeaders = (contentType: string) =>
    headers(
      fc.tuple(cookie, fc.constantFrom(null, 'http://attune.test', 'https://evil.test')).map(([c, origin]) => {
        const h: [string, string][] = [['content-type', contentType]];
        if (c !== null) h.push(['cookie', c]);
        if (origin !== null) h.push(['origin', origin]);
        return h;
      }),
    );
  const form = 'application/x-www-form-urlencoded';
  return fc.oneof(
    request({
      method: fc.constant('GET'),
      path: fc.constantFrom('/ui/experiments/login', '/ui/experiments', '/ui/experiments/'),
      headers: uiHeaders(form),
    }),
    request({
      method: fc.constant('POST'),
      path: fc.constant('/ui/experiments/login'),
      headers: uiHeaders(form),
      body: formBody(fc.record({ token: fc.oneof(fc.constant('test-admin-token'), nastyString) }, { requiredKeys: [] })),
    }),
    request({ method: fc.constant('POST'), path: fc.constant('/ui/experiments/logout'), headers: uiHeaders(form) }),
    request({ method: fc.constant('POST'), path: fc.constant('/ui/experiments'), headers: uiHeaders(form), body: formBody(createForm) }),
    request({
      method: fc.constant('GET'),
      path: keyPath.map((k) => `/ui/experiments/${k}`),
      query: fc.option(fc.constantFrom('live=1', 'live=0', 'x=%zz'), { nil: undefined }),
      headers: uiHeaders(form),
    }),
    request({
      method: fc.constant('POST'),
      path: fc.tuple(keyPath, segment(ACTIONS)).map(([k, a]) => `/ui/experiments/${k}/${a}`),
      headers: uiHeaders(form),
      body: formBody(fc.record({ winner: fc.constantFrom('a', 'b', 'zz', ''), action: fc.constant('stop') }, { requiredKeys: [] })),
    }),
  );
}
