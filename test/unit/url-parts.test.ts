import { describe, expect, it } from 'vitest';
import { campaignTags, decodeQueryValue, splitUrl } from '../../src/core/url-parts.ts';

/** What the context used to read through `new URL` and `searchParams`: the reference. */
function reference(u: string) {
  const url = new URL(u);
  const q = url.searchParams;
  const tag = (k: string) => (q.get(k) ?? '').slice(0, 64).toLowerCase();
  return {
    host: url.hostname.toLowerCase(),
    path: url.pathname,
    query: url.search.slice(1),
    tags: {
      source: tag('utm_source'),
      medium: tag('utm_medium'),
      campaign: tag('utm_campaign'),
      term: tag('utm_term'),
      content: tag('utm_content'),
      clickId: ['gclid', 'gbraid', 'wbraid', 'fbclid', 'msclkid', 'ttclid', 'dclid', 'li_fat_id'].some((k) => q.has(k)),
    },
  };
}

const WELL_FORMED = [
  'https://www.example.com/a/b?x=1#frag',
  'http://user:pw@Host.Example:8080/p?q',
  'https://example.com',
  'https://example.com?utm_source=a',
  'https://example.com/#x?y',
  'https://example.com/path?',
  'https://shop.example/pricing?utm_source=google&utm_medium=cpc&utm_campaign=winter-sale',
  'https://shop.example/?utm_source=News+Letter&utm_medium=e%2Dmail&utm_term=caf%C3%A9&utm_content=A%20B',
  'https://shop.example/?utm_source=first&utm_source=second&utm_medium=&utm_campaign',
  'https://shop.example/?utm_campaign=' + 'x'.repeat(100),
  'https://shop.example/?gclid=abc',
  'https://shop.example/?a=1&fbclid=z&b',
  'https://shop.example/?li_fat_id=1',
  'https://shop.example/?gclidx=1&xgclid=2&utm_sourcex=3&UTM_SOURCE=4',
  'https://shop.example/?&&utm_medium=cpc&&',
  'http://[::1]:8787/x?utm_source=v6',
  'http://[2001:db8::1]/',
  'https://shop.example:443/p/1',
  'https://shop.example/?utm_source=%ZZbad',
  'https://shop.example/?utm_source=%E2%82%AC',
  'https://shop.example/?utm_campaign=Save%2020%%20now',
  'https://shop.example/?utm_source=Caf%E9&utm_medium=x%C3',
  'https://shop.example/go?u=https://t.co/x',
  'HTTPS://Shop.Example/P',
  'https:shop.example/p?utm_source=a',
];

describe('url parts', () => {
  it.each(WELL_FORMED)('agrees with the WHATWG parser: %s', (u) => {
    const ref = reference(u);
    const parts = splitUrl(u);
    expect(parts.host).toBe(ref.host);
    expect(parts.path).toBe(ref.path);
    expect(parts.query).toBe(ref.query);
    expect(campaignTags(parts.query)).toEqual(ref.tags);
  });

  it('is lenient where the parser would throw, and never throws', () => {
    expect(splitUrl('news.example/x')).toEqual({ host: 'news.example', path: '/x', query: '' });
    expect(splitUrl('/only/a/path?utm_source=x')).toEqual({ host: '', path: '/only/a/path', query: 'utm_source=x' });
    expect(splitUrl('')).toEqual({ host: '', path: '/', query: '' });
    expect(splitUrl(undefined)).toEqual({ host: '', path: '/', query: '' });
    expect(splitUrl('https://')).toEqual({ host: '', path: '/', query: '' });
    expect(splitUrl('http://h:80/a]b').host).toBe('h');
    // a URL inside the query is not the scheme
    expect(splitUrl('/go?u=https://t.co/x')).toEqual({ host: '', path: '/go', query: 'u=https://t.co/x' });
    expect(splitUrl('x.com/?u=https://y.com').host).toBe('x.com');
  });

  it('decodes form values: + is a space, malformed escapes stay as sent', () => {
    expect(decodeQueryValue('a+b%20c')).toBe('a b c');
    expect(decodeQueryValue('100%')).toBe('100%');
    expect(decodeQueryValue('plain')).toBe('plain');
  });
});
