import { describe, expect, it } from 'vitest';
import { MAX_RECENT, newProfile, touchProfile, withRecentItems } from '../../src/core/profile.ts';
import { parseProfile, serializeProfile } from '../../src/core/profile-codec.ts';

describe('profile recent items', () => {
  const now = Date.UTC(2026, 10, 23, 12);
  it('keeps newest first, deduplicated, bounded, and skips overlong ids', () => {
    let p = withRecentItems(newProfile(now), ['a', 'b']);
    p = withRecentItems(p, ['c', 'a', 'x'.repeat(65)]);
    expect(p.recent).toEqual(['c', 'a', 'b']);
    for (let i = 0; i < 20; i++) p = withRecentItems(p, [`p${i}`]);
    expect(p.recent).toHaveLength(MAX_RECENT);
    expect(p.recent![0]).toBe('p19');
  });

  it('survives touchProfile and the codec; profiles without it keep the old layout', () => {
    const bare = newProfile(now);
    expect(JSON.parse(serializeProfile(bare))).toHaveLength(10);
    const p = touchProfile(withRecentItems(bare, ['sku-1', 'sku-2']), now + 60_000, 'product');
    expect(p.recent).toEqual(['sku-1', 'sku-2']);
    expect(parseProfile(serializeProfile(p))).toEqual(p);
    expect(parseProfile(serializeProfile(bare))).toEqual(bare);
  });

  it('rejects a malformed recent list', () => {
    const text = JSON.parse(serializeProfile(newProfile(now)));
    expect(parseProfile(JSON.stringify([...text, [1, 2]]))).toBeNull();
    expect(parseProfile(JSON.stringify([...text, Array.from({ length: 11 }, (_, i) => `p${i}`)]))).toBeNull();
  });
});
