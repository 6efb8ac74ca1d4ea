import { describe, expect, it } from 'vitest';
import { clip, LIMITS, ownCopy } from '../../src/core/input-limits.ts';
import { pageHashes } from '../../src/core/features.ts';
import { pageTypeOf } from '../../src/core/page-type.ts';
import { landingClass } from '../../src/core/referrer.ts';
import { pagePartsOf, referrerPartsOf } from '../../src/core/url-memo.ts';
import { campaignTags, splitUrl } from '../../src/core/url-parts.ts';

const URLS = [
  'https://Shop.Example/pricing?utm_source=Google&utm_medium=cpc',
  'https://shop.example/',
  'https://shop.example/p/stove?gclid=abc123',
  'http://user@shop.example:8080/a/b?utm_campaign=winter%20sale#top',
  'shop.example/no-scheme?utm_term=x+y',
  '/path-only?utm_content=hero',
  `https://shop.example/${'x'.repeat(300)}?utm_source=long`,
  `https://shop.example/${'y'.repeat(3000)}`,
  '',
];

const direct = (url: string) => {
  const p = splitUrl(clip(url, LIMITS.input));
  const path = clip(p.path, LIMITS.path);
  const tags = campaignTags(p.query);
  const pageType = pageTypeOf(path);
  const landing = landingClass(tags.medium, tags.clickId);
  return { host: clip(p.host, LIMITS.host), path, tags, pageType, landing, hashes: pageHashes(tags, path, pageType) };
};

describe('url-memo', () => {
  it('gives the parts a direct scan gives, the first time and again', () => {
    for (const url of URLS) {
      expect(pagePartsOf(ownCopy(url)), url).toEqual(direct(url));
      expect(pagePartsOf(ownCopy(url)), url).toEqual(direct(url));
    }
    expect(pagePartsOf(undefined)).toEqual(direct(''));
    expect(referrerPartsOf('https://WWW.Google.com/').host).toBe('www.google.com');
    expect(referrerPartsOf('https://www.google.com/').host).toBe('www.google.com');
    expect(referrerPartsOf(undefined).host).toBe('');
  });

  it('keeps repeat page URLs and referrers, not the unique ones (click ids, queries) nor long ones', () => {
    const seen = (url: string) => pagePartsOf(ownCopy(url)) === pagePartsOf(ownCopy(url));
    expect(seen('https://shop.example/kept?utm_source=news')).toBe(true);
    expect(seen('https://shop.example/p?gclid=unique-1')).toBe(false);
    expect(seen(`https://shop.example/${'z'.repeat(400)}`)).toBe(false);
  });

  it('stays bounded: thousands of distinct URLs later, lookups still agree with a direct scan', () => {
    for (let i = 0; i < 5000; i++) {
      const url = `https://shop.example/item-${i}?utm_source=s${i % 7}`;
      expect(pagePartsOf(url).path).toBe(`/item-${i}`);
    }
    for (const url of URLS) expect(pagePartsOf(url)).toEqual(direct(url));
  });
});
