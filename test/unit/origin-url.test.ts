/** The proxy's URL builder (src/worker/proxy/origin-url.ts): upstream URLs from parts, ORIGIN_URL, redirects. */
import { describe, expect, it } from 'vitest';
import { parseOriginUrl, pathRuleBroken, publicLocation, upstreamUrl, type OriginBase } from '../../src/worker/proxy/origin-url.ts';

const base = (raw: string): OriginBase => {
  const r = parseOriginUrl(raw);
  if (!r.ok) throw new Error(r.rule);
  return r.value;
};
/** A request as the runtime hands it over: parsed by the WHATWG parser first. */
const upstream = (origin: string, requestPath: string): string => {
  const incoming = new URL(`https://edge.example${requestPath}`);
  const r = upstreamUrl(base(origin), incoming.pathname, incoming.search);
  return r.ok ? r.value.href : `refused: ${r.rule}`;
};

describe('ORIGIN_URL', () => {
  it('takes http(s) with an optional base path', () => {
    expect(base('https://o.example')).toEqual({ origin: 'https://o.example', prefix: '' });
    expect(base('http://o.example:8080/')).toEqual({ origin: 'http://o.example:8080', prefix: '' });
    expect(base('https://o.example/site/')).toEqual({ origin: 'https://o.example', prefix: '/site' });
    expect(base('https://O.Example/a/b//')).toEqual({ origin: 'https://o.example', prefix: '/a/b' });
  });
  it.each([
    ['https://user:pw@o.example', 'credentials'],
    ['https://user@o.example', 'credentials'],
    ['https://o.example/?a=1', 'query or fragment'],
    ['https://o.example/?', 'query or fragment'],
    ['https://o.example#x', 'query or fragment'],
    ['ftp://o.example', 'http:// or https://'],
    ['file:///etc/passwd', 'http:// or https://'],
    ['javascript:alert(1)', 'http:// or https://'],
    ['o.example', 'absolute'],
    ['/site', 'absolute'],
    ['http://', 'absolute'],
  ])('refuses %j (%s)', (raw, rule) => {
    const r = parseOriginUrl(raw);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.rule).toContain(rule);
  });
});

describe('upstream URL', () => {
  it.each([
    ['https://o.example', '/a/b?q=1&r=%2F', 'https://o.example/a/b?q=1&r=%2F'],
    ['https://o.example', '/', 'https://o.example/'],
    ['https://o.example/site/', '/', 'https://o.example/site/'],
    ['https://o.example/site', '/a?q', 'https://o.example/site/a?q'],
    ['https://o.example:8443/site', '/@evil.example/x', 'https://o.example:8443/site/@evil.example/x'],
    ['https://o.example', '/x%3a//evil.example/', 'https://o.example/x%3a//evil.example/'],
    ['https://o.example', '/https://evil.example/', 'https://o.example/https://evil.example/'],
    ['https://o.example', '/a//evil.example', 'https://o.example/a//evil.example'],
    ['https://o.example', '/a%2Fb', 'https://o.example/a%2Fb'],
    ['https://o.example', '/v..1/.well-known/x', 'https://o.example/v..1/.well-known/x'],
  ])('%s + %j is %s', (origin, path, expected) => {
    expect(upstream(origin, path)).toBe(expected);
  });

  it.each([
    '//evil.example/x',
    '///evil.example/x',
    '/\\evil.example',
    '/\\/evil.example',
    '/\t/evil.example',
    '/\r\n/evil.example',
    '/%2fevil.example',
    '/%2F%2Fevil.example',
    '/%5Cevil.example',
    '/%5c/evil.example',
  ])('refuses %j: it would name another host', (path) => {
    expect(upstream('https://o.example/site', path)).toMatch(/^refused: path must not start with "\/\/"/);
  });

  it.each(['/a%00', '/%0D%0AX-Injected:%201', '/%7f', '/a%1fb'])('refuses %j: control characters', (path) => {
    expect(upstream('https://o.example', path)).toMatch(/^refused: path must not hold control characters/);
  });

  it.each(['/..%2fetc', '/a/%2e%2e%2f%2e%2e%2fb', '/a/.%2E%5Cb', '/a/..;/b', '/a/..;x=1/b', '/a%2f.%2fb', '/a/..%5c'])(
    'refuses %j: it could climb out of the base path',
    (path) => {
      expect(upstream('https://o.example/site', path)).toMatch(/^refused: path must not have "\." or "\.\." segments/);
    },
  );

  it('refuses a path that is not absolute (never reaches the parser as such, checked all the same)', () => {
    expect(pathRuleBroken('evil.example/x')).toBe('path must start with "/"');
    expect(pathRuleBroken('')).toBe('path must start with "/"');
  });

  // A seeded sweep of paths glued from the pieces URL confusion is made of: every one either
  // stays on the origin under its base path or is refused; none is ever another host.
  it('never leaves the origin, whatever the path is glued from', () => {
    const pieces = [
      '/',
      '//',
      '\\',
      '%2f',
      '%2F',
      '%5c',
      '.',
      '..',
      '%2e',
      ';',
      '@',
      ':',
      '%3a',
      '?',
      '#',
      '\t',
      '\n',
      '%00',
      '%0a',
      'evil.example',
      '127.0.0.1:9999',
      'http:',
      'a',
      '%',
      '%25',
      'é',
      ' ',
      '[::1]',
    ];
    let seed = 0x9e3779b9;
    const next = () => (seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const b = base(i % 2 === 0 ? 'https://o.example:8443' : 'https://o.example:8443/site');
      let raw = '/';
      const n = 1 + Math.floor(next() * 6);
      for (let k = 0; k < n; k++) raw += pieces[Math.floor(next() * pieces.length)];
      let incoming: URL;
      try {
        incoming = new URL(`https://edge.example${raw}`);
      } catch {
        continue;
      }
      const r = upstreamUrl(b, incoming.pathname, incoming.search);
      if (!r.ok) {
        refused++;
        continue;
      }
      expect(r.value.origin, raw).toBe('https://o.example:8443');
      expect(r.value.pathname.startsWith(`${b.prefix}/`), raw).toBe(true);
      expect(r.value.pathname.startsWith(`${b.prefix}//`), raw).toBe(false);
      expect(r.value.username + r.value.password, raw).toBe('');
    }
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(20_000);
  }, 30_000); // property test: thousands of paths
});

describe('redirect Location', () => {
  const b = base('https://o.example/site');
  const up = new URL('https://o.example/site/dir/page');
  const map = (loc: string) => publicLocation(loc, up, b, 'https://edge.example');
  it.each([
    ['https://o.example/site/a?x=1#h', 'https://edge.example/a?x=1#h'],
    ['/site', 'https://edge.example/'],
    ['/site/', 'https://edge.example/'],
    ['next', 'https://edge.example/dir/next'],
    ['../up', 'https://edge.example/up'],
    ['?page=2', 'https://edge.example/dir/page?page=2'],
    ['https://o.example/site//evil.example/x', 'https://edge.example//evil.example/x'],
    // the origin outside the base path: its own URL, absolute
    ['/other', 'https://o.example/other'],
    ['/sitemap.xml', 'https://o.example/sitemap.xml'],
    ['../../../../x', 'https://o.example/x'],
  ])('%j becomes %j', (loc, expected) => {
    expect(map(loc)).toBe(expected);
  });
  it.each([
    'https://evil.example/',
    '//evil.example/x',
    '/\\evil.example/x',
    '\\\\evil.example',
    'http://o.example/site/a',
    'https://o.example:444/site/',
    'javascript:alert(1)',
    'http://[',
  ])('%j is not ours to map: null, passed through as sent', (loc) => {
    expect(map(loc)).toBeNull();
  });
});
