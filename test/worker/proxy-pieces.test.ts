/** The pure pieces of proxy mode: CSP rewriting, page matching, templates, origin URLs. */
import { describe, expect, it } from 'vitest';
import { allowBootstrap, rewriteCsp } from '../../src/worker/proxy/csp.ts';
import { originConfig, stripOwnCookies } from '../../src/worker/proxy/origin.ts';
import { upstreamUrl } from '../../src/worker/proxy/origin-url.ts';
import { isApiPath } from '../../src/worker/proxy/never-forwarded.ts';
import { scriptJson } from '../../src/worker/proxy/page-rewriter.ts';
import {
  decideRequestOf,
  matchPage,
  pageRulesProblems,
  parsePageRules,
  parseStoredPageRules,
  slotSelector,
} from '../../src/worker/proxy/page-rules.ts';
import { contextItem } from '../../src/worker/proxy/recommend-slot.ts';
import { renderItems } from '../../src/worker/proxy/item-template.ts';
import { consoleCalls } from './log-capture.ts';

describe('allowBootstrap (CSP)', () => {
  const N = 'abc123';
  it.each([
    ["script-src 'self'", `script-src 'self' 'nonce-${N}'`, true],
    ["default-src 'self'", `default-src 'self'; script-src 'self' 'nonce-${N}'`, true],
    ["default-src 'none'", `default-src 'none'; script-src 'nonce-${N}'; connect-src 'self'`, true],
    ["script-src 'strict-dynamic' 'nonce-x'", `script-src 'strict-dynamic' 'nonce-x' 'nonce-${N}'`, true],
    ["script-src 'self' 'unsafe-inline' 'strict-dynamic'", `script-src 'self' 'unsafe-inline' 'strict-dynamic' 'nonce-${N}'`, true],
    ["script-src-elem https://cdn.example; script-src 'self'", `script-src-elem https://cdn.example 'nonce-${N}'; script-src 'self'`, true],
    ["script-src 'unsafe-inline'", "script-src 'unsafe-inline' 'self'", false],
    ['img-src *', 'img-src *', false],
    ["script-src 'self'; connect-src https://api.example", `script-src 'self' 'nonce-${N}'; connect-src https://api.example 'self'`, true],
  ])('%s', (policy, expected, nonce) => {
    expect(allowBootstrap(policy, N)).toEqual({ policy: expected, nonce });
  });

  it('rewrites each comma-joined policy and the report-only header', () => {
    const h = new Headers({
      'content-security-policy': "script-src 'self', img-src *",
      'content-security-policy-report-only': "default-src 'self'",
    });
    expect(rewriteCsp(h, N)).toBe(true);
    expect(h.get('content-security-policy')).toBe(`script-src 'self' 'nonce-${N}', img-src *`);
    expect(h.get('content-security-policy-report-only')).toBe(`default-src 'self'; script-src 'self' 'nonce-${N}'`);
    expect(rewriteCsp(new Headers(), N)).toBe(false);
  });
});

describe('page rules', () => {
  const rules = parsePageRules({
    version: '1',
    pages: [
      { path: '/', slots: [{ id: 'hero', variants: { a: { text: 'A' } } }] },
      { path: '/blog/*', slots: [{ id: 'x', model: 'm', candidates: ['p', 'q'] }] },
      { path: '*', slots: [] },
    ],
  })!;
  it('matches exact, then prefix, then any', () => {
    expect(matchPage(rules, '/')!.path).toBe('/');
    expect(matchPage(rules, '/blog/post-1')!.path).toBe('/blog/*');
    expect(matchPage(rules, '/blogroll')!.path).toBe('*');
  });
  it('builds one decide request per slot', () => {
    expect(decideRequestOf(rules.pages[0]!.slots[0]!)).toEqual({ id: 'hero', candidates: ['a'] });
    expect(decideRequestOf(rules.pages[1]!.slots[0]!)).toEqual({ id: 'x', model: 'm', candidates: ['p', 'q'] });
    expect(slotSelector({ id: 'say "hi"' })).toBe('[data-attune-slot="say \\"hi\\""]');
  });
  it('rejects a slot that can decide nothing, and unknown shapes', () => {
    expect(parsePageRules({ version: '1', pages: [{ path: '/', slots: [{ id: 'x' }] }] })).toBeNull();
    expect(parsePageRules({ pages: [] })).toBeNull();
  });
  it('drops an unknown recommend filter rather than every rule of the document', () => {
    const typo = parsePageRules({
      version: '1',
      pages: [
        {
          path: '/',
          slots: [{ id: 'pairs', recommend: { count: 3, filters: { instock: true, inStock: true }, template: '<p>{{id}}</p>' } }],
        },
      ],
    });
    expect(typo).not.toBeNull();
    expect(typo!.pages[0]!.slots[0]!.recommend!.filters).toEqual({ inStock: true });
  });
});

describe('itemFrom patterns', () => {
  const recs = (itemFrom: string) => ({ id: 'recs', recommend: { count: 3, itemFrom, template: '<p>{{id}}</p>' } });
  const doc = (...itemFrom: string[]) => ({ version: '1', pages: itemFrom.map((p, i) => ({ path: `/p${i}/*`, slots: [recs(p)] })) });

  it('refuses, at write, a pattern that could backtrack for long, naming itemFrom', () => {
    expect(pageRulesProblems(doc('^/p/([^/]+)'))).toEqual([]);
    const problems = pageRulesProblems(doc('^/p/((?:a|a)+)$'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^pages\.0\.slots\.0\.recommend\.itemFrom: itemFrom: .*no repeated group holding a repetition or an alternative/,
    );
  });

  it('drops a stored page rule whose pattern could backtrack for long, not the whole document', () => {
    const rules = parseStoredPageRules(doc('^/p/([^/]+)', '^/p/((?:a|a)+)$', '(.*)(.*)(.*)x', '/q/(\\d+)'))!;
    expect(rules.pages.map((p) => p.path)).toEqual(['/p0/*', '/p3/*']);
    expect(consoleCalls('error').map((c) => JSON.parse(String(c[0])).path)).toEqual(['/p1/*', '/p2/*']);
  });

  it('matches only the first 256 characters of the path', () => {
    expect(contextItem('^/p/(\\d+)x', `/p/${'1'.repeat(100)}x`)).toBe('1'.repeat(100));
    expect(contextItem('^/p/(\\d+)x', `/p/${'1'.repeat(300)}x`)).toBeUndefined();
  });
});

describe('templates and bootstrap JSON', () => {
  it('escapes item fields, numbers positions and blanks unknown fields', () => {
    expect(renderItems('<li title="{{name}}">{{index}}. {{name}} {{nope}}</li>', [{ name: '"<b>' }, { name: 'ok' }])).toBe(
      '<li title="&quot;&lt;b&gt;">1. &quot;&lt;b&gt; </li><li title="ok">2. ok </li>',
    );
  });
  it('cannot close the inline script', () => {
    expect(scriptJson({ s: '</script><script>alert(1)</script>\u2028' })).toBe(
      '{"s":"\\u003c/script>\\u003cscript>alert(1)\\u003c/script>\\u2028"}',
    );
  });
});

describe('origin', () => {
  it('is off without a usable http(s) ORIGIN_URL', () => {
    expect(originConfig({ ORIGIN_URL: '' })).toBeNull();
    expect(originConfig({ ORIGIN_URL: 'ftp://x' })).toBeNull();
    expect(originConfig({ ORIGIN_URL: 'not a url' })).toBeNull();
    expect(originConfig({ ORIGIN_URL: 'https://o.example', ORIGIN_TIMEOUT_MS: 'x' })!.timeoutMs).toBe(10_000);
  });
  it('keeps a base path and the query', () => {
    const href = (origin: string, path: string, search: string) => {
      const r = upstreamUrl(originConfig({ ORIGIN_URL: origin })!.base, path, search);
      return r.ok ? r.value.href : r.rule;
    };
    expect(href('https://o.example/site/', '/a/b', '?q=1')).toBe('https://o.example/site/a/b?q=1');
    expect(href('https://o.example', '/', '?q=1')).toBe('https://o.example/?q=1');
  });
  it("drops only attune's cookies", () => {
    expect(stripOwnCookies('a=1; att_vid=xyz; att_p=1.2; b=2')).toBe('a=1; b=2');
    expect(stripOwnCookies('att_vid=xyz')).toBe('');
    expect(stripOwnCookies('a=1; att_admin=admin-ui%3A1.sig')).toBe('a=1'); // the admin session least of all
    // the admin page is the Worker's own, never the origin's; other /ui paths are the site's
    expect(isApiPath('/ui/experiments')).toBe(true);
    expect(isApiPath('/ui/experiments/login')).toBe(true);
    expect(isApiPath('/ui/campaigns')).toBe(true);
    expect(isApiPath('/ui/campaigns/demo-banner/stats.csv')).toBe(true);
    expect(isApiPath('/ui/other')).toBe(false);
  });
});
