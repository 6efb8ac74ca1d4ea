import { describe, expect, it } from 'vitest';
import { localTime } from '../../src/core/local-time.ts';
import { pageTypeOf } from '../../src/core/page-type.ts';
import { classifyReferrer } from '../../src/core/referrer.ts';
import { campaignTags } from '../../src/core/url-parts.ts';
import { parseUserAgent } from '../../src/core/user-agent.ts';

describe('user agent', () => {
  it.each([
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
      'mobile',
      'ios',
      'safari',
    ],
    [
      'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0 Mobile/15E148 Safari/604.1',
      'tablet',
      'ios',
      'chrome',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
      'mobile',
      'android',
      'chrome',
    ],
    [
      'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
      'tablet',
      'android',
      'chrome',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0 Mobile Safari/537.36',
      'mobile',
      'android',
      'samsung',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0',
      'desktop',
      'windows',
      'edge',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
      'desktop',
      'macos',
      'safari',
    ],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0', 'desktop', 'linux', 'firefox'],
    [
      'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
      'desktop',
      'chromeos',
      'chrome',
    ],
    ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'bot', 'other', 'bot'],
    [
      'Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0 TV Safari/537.36',
      'tv',
      'linux',
      'samsung',
    ],
    ['', 'unknown', 'other', 'other'],
  ])('%s', (ua, device, os, browser) => {
    expect(parseUserAgent(ua)).toMatchObject({ device, os, browser });
  });
});

describe('referrer class', () => {
  const q = (s: string) => campaignTags(s).clickId;
  it.each([
    ['www.google.com', '', '', 'search'],
    ['duckduckgo.com', '', '', 'search'],
    ['www.google.com', 'cpc', '', 'paid'],
    ['', '', 'gclid=abc', 'paid'],
    ['l.facebook.com', '', '', 'social'],
    ['t.co', '', '', 'social'],
    ['mail.google.com', '', '', 'email'],
    ['', 'email', '', 'email'],
    ['', '', '', 'direct'],
    ['shop.example', '', '', 'internal'],
    ['blog.shop.example', '', '', 'internal'],
    ['myshop.example', '', '', 'other'],
    ['shop.example.evil.io', '', '', 'other'],
    ['blog.partner.io', '', '', 'other'],
  ])('%s medium=%s %s → %s', (host, medium, query, expected) => {
    expect(classifyReferrer({ referrerHost: host, pageHost: 'shop.example', utmMedium: medium, clickId: q(query) })).toBe(expected);
  });
});

describe('page type', () => {
  it.each([
    ['/', 'home'],
    ['/index.html', 'home'],
    ['/products/blue-shirt', 'product'],
    ['/collections/summer', 'category'],
    ['/cart', 'cart'],
    ['/checkout/step-1', 'checkout'],
    ['/thank-you', 'confirmation'],
    ['/pricing', 'pricing'],
    ['/blog/how-to', 'content'],
    ['/search', 'search'],
    ['/login', 'account'],
    ['/help/returns', 'support'],
    ['/about-us', 'other'],
  ])('%s → %s', (path, type) => expect(pageTypeOf(path)).toBe(type));
});

describe('local time', () => {
  it('applies the zone offset, including DST and half-hour zones', () => {
    const t = Date.UTC(2026, 6, 1, 23, 45); // Wed 1 July 23:45 UTC
    expect(localTime(t, 'UTC')).toEqual({ hour: 23, weekday: 3 });
    expect(localTime(t, 'Europe/Berlin')).toEqual({ hour: 1, weekday: 4 }); // CEST, next day
    expect(localTime(t, 'America/New_York')).toEqual({ hour: 19, weekday: 3 });
    expect(localTime(t, 'Asia/Kolkata')).toEqual({ hour: 5, weekday: 4 });
    expect(localTime(Date.UTC(2026, 0, 1, 23, 45), 'Europe/Berlin')).toEqual({ hour: 0, weekday: 5 }); // CET
    expect(localTime(t, 'Not/AZone')).toEqual({ hour: 23, weekday: 3 });
  });

  it('agrees with Date on UTC hour and weekday, before and after 1970', () => {
    for (let t = -3e11; t < 3e12; t += 7_919_993_311) {
      const d = new Date(t);
      expect(localTime(t, 'UTC'), d.toISOString()).toEqual({ hour: d.getUTCHours(), weekday: d.getUTCDay() });
    }
  });
});
