import { describe, expect, it } from 'vitest';
import { buildContext } from '../../src/core/context.ts';
import { decayedViews, MAX_ASSIGNMENTS, newProfile, touchProfile, viewsWithin, withAssignment } from '../../src/core/profile.ts';
import { parseProfile, serializeProfile } from '../../src/core/profile-codec.ts';
import { compileSegments, evaluateSegments, type SegmentConfig } from '../../src/core/segments.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1, 12);

describe('profile', () => {
  it('counts visits by 30-minute gaps and views per page type per day', () => {
    let p = newProfile(T0);
    p = touchProfile(p, T0, 'home');
    p = touchProfile(p, T0 + 10 * 60_000, 'pricing');
    p = touchProfile(p, T0 + 50 * 60_000, 'pricing'); // 40 min gap: new visit
    p = touchProfile(p, T0 + 2 * DAY, 'pricing');
    expect(p.visits).toBe(3);
    expect(p.views).toBe(4);
    expect(viewsWithin(p, 'pricing', 1, T0 + 2 * DAY)).toBe(1);
    expect(viewsWithin(p, 'pricing', 3, T0 + 2 * DAY)).toBe(3);
    expect(viewsWithin(p, 'pricing', 3, T0 + 5 * DAY)).toBe(0); // the window slides with time
    expect(viewsWithin(p, 'home', 14, T0 + 2 * DAY)).toBe(1);
  });

  it('forgets day buckets beyond 14 days and decays interest with a 7-day half-life', () => {
    let p = touchProfile(newProfile(T0), T0, 'product');
    p = touchProfile(p, T0 + 20 * DAY, 'home');
    expect(p.days.product).toBeUndefined();
    expect(decayedViews(p, 'home', T0 + 27 * DAY)).toBeCloseTo(0.5, 2);
  });

  it('counts a confirmation page as a purchase', () => {
    expect(touchProfile(newProfile(T0), T0, 'confirmation').purchases).toBe(1);
  });

  it('keeps at most MAX_ASSIGNMENTS sticky slots, newest last', () => {
    let p = newProfile(T0);
    for (let i = 0; i < MAX_ASSIGNMENTS + 5; i++) p = withAssignment(p, `slot${i}`, ['a', 'v1', 0.5, 'model']);
    const keys = Object.keys(p.assignments);
    expect(keys.length).toBe(MAX_ASSIGNMENTS);
    expect(keys.at(-1)).toBe(`slot${MAX_ASSIGNMENTS + 4}`);
    expect(keys).not.toContain('slot0');
  });

  it('serializes compactly and parses back; rejects anything malformed', () => {
    let p = newProfile(T0);
    for (let i = 0; i < 6; i++) p = touchProfile(p, T0 + i * DAY, i % 2 ? 'pricing' : 'product');
    p = withAssignment(p, 'hero', ['benefit', 'h1234', 0.61, 'model']);
    const text = serializeProfile(p);
    expect(text.length).toBeLessThan(300);
    expect(parseProfile(text)).toEqual(p);
    for (const bad of [
      '',
      'null',
      '[]',
      '[2,1,1,1,1,1,1,{},{},{}]',
      '[1,-1,1,1,1,1,1,{},{},{}]',
      '[1,1,1,1,1,1,1,{"a":["x"]},{},{}]',
      '[1,1,1,1,1,1,1,{},{},{"s":["a","v",0.5]}]',
      '{"first":1}',
    ]) {
      expect(parseProfile(bad), bad).toBeNull();
    }
  });
});

describe('segments', () => {
  const config: SegmentConfig = {
    version: 't',
    segments: [
      { id: 'pricing-intent', all: [{ pageType: 'pricing', days: 5, min: 3 }] },
      {
        id: 'mobile-social',
        all: [
          { context: 'device', in: ['mobile'] },
          { context: 'referrer', in: ['social'] },
        ],
      },
      { id: 'big-account', all: [{ attr: 'seats', min: 50 }] },
      {
        id: 'pro-or-returning',
        any: [
          { attr: 'plan', in: ['pro'] },
          { metric: 'visits', min: 2 },
        ],
      },
    ],
  };
  const compiled = compileSegments(config);

  it('evaluates page-type windows, context, attributes and any/all', () => {
    let p = newProfile(T0);
    for (let i = 0; i < 3; i++) p = touchProfile(p, T0 + i * DAY, 'pricing');
    const ctx = buildContext({
      now: T0 + 2 * DAY,
      profile: p,
      referrer: 'https://t.co/x',
      url: 'https://s.example/',
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1',
      attrs: { seats: 80, plan: 'free' },
    });
    expect(evaluateSegments(compiled, ctx)).toEqual(['pricing-intent', 'mobile-social', 'big-account', 'pro-or-returning']);
    const later = buildContext({ now: T0 + 8 * DAY, profile: p, attrs: { seats: 10 } });
    expect(evaluateSegments(compiled, later)).toEqual(['pro-or-returning']); // 3 visits still count
    expect(evaluateSegments(compiled, buildContext({ now: T0, profile: newProfile(T0) }))).toEqual([]);
  });

  it('an attr rule reads only the caller\'s own attributes, never the prototype\'s ("constructor")', () => {
    const compiled = compileSegments({
      version: 't',
      segments: [
        { id: 'ctor', all: [{ attr: 'constructor' }] },
        { id: 'plan', all: [{ attr: 'plan' }] },
      ],
    });
    expect(evaluateSegments(compiled, buildContext({ now: T0, profile: newProfile(T0), attrs: { plan: 'pro' } }))).toEqual(['plan']);
  });
});
