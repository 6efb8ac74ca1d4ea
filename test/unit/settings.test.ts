/** The Worker's settings (src/worker/shared/settings.ts): one rule for every number, parsed once per environment. */
import { describe, expect, it } from 'vitest';
import { numberVar, settings } from '../../src/worker/shared/settings.ts';

describe('settings', () => {
  it("are wrangler.toml's defaults when nothing is set", () => {
    expect(settings({})).toEqual({
      refreshMs: 5000,
      writeGapMs: 1000,
      staleMs: 60_000,
      originTimeoutMs: 10_000,
      allowedOrigins: [], // no browser origin: a deployment names its site
      adminToken: undefined,
      partnerTokens: [],
      signingSecret: undefined,
      legacySecret: false,
    });
  });

  it('read every number by one rule: unset, empty, blank, not a number or out of range means the default', () => {
    for (const bad of ['', ' ', 'x', '-1', 'NaN', 'Infinity']) {
      const s = settings({ MODEL_REFRESH_SECONDS: bad, KV_WRITE_GAP_MS: bad, KV_STALE_MS: bad, ORIGIN_TIMEOUT_MS: bad });
      expect([s.refreshMs, s.writeGapMs, s.staleMs, s.originTimeoutMs], JSON.stringify(bad)).toEqual([5000, 1000, 60_000, 10_000]);
    }
    const s = settings({ MODEL_REFRESH_SECONDS: '0', KV_WRITE_GAP_MS: '0', KV_STALE_MS: '0', ORIGIN_TIMEOUT_MS: '0' });
    expect([s.refreshMs, s.writeGapMs, s.staleMs]).toEqual([0, 0, 0]); // 0 is a choice: refresh, write, trust KV at once
    expect(s.originTimeoutMs).toBe(10_000); // a timeout of 0 would refuse every page
    expect(settings({ MODEL_REFRESH_SECONDS: '2.5', ORIGIN_TIMEOUT_MS: '250' })).toMatchObject({ refreshMs: 2500, originTimeoutMs: 250 });
    expect(numberVar(' 7 ', 1)).toBe(7);
  });

  it('read origins, tokens and the secret', () => {
    expect(settings({ ALLOWED_ORIGINS: 'https://a.example, https://b.example' }).allowedOrigins).toEqual([
      'https://a.example',
      'https://b.example',
    ]);
    expect(settings({ ALLOWED_ORIGINS: 'https://a.example,*' }).allowedOrigins).toBe('*');
    expect(settings({ ALLOWED_ORIGINS: ' , ' }).allowedOrigins).toEqual([]);
    expect(settings({ ADMIN_TOKEN: ' admin ', PARTNER_TOKENS: 'p1, ,p2,' }).partnerTokens).toEqual(['admin', 'p1', 'p2']);
    expect(settings({ ADMIN_TOKEN: '', SIGNING_SECRET: '' })).toMatchObject({ adminToken: undefined, signingSecret: undefined });
    expect(settings({ SIGNING_SECRET: 's' })).toMatchObject({ signingSecret: 's', legacySecret: false });
  });

  it('read the signing secret under its old name, PROFILE_SECRET, for one release', () => {
    expect(settings({ PROFILE_SECRET: 'old' })).toMatchObject({ signingSecret: 'old', legacySecret: true });
    expect(settings({ SIGNING_SECRET: 'new', PROFILE_SECRET: 'old' })).toMatchObject({ signingSecret: 'new', legacySecret: false });
    expect(settings({ SIGNING_SECRET: '', PROFILE_SECRET: '' })).toMatchObject({ signingSecret: undefined, legacySecret: false });
  });

  it('are parsed once per environment, and again when a value changes', () => {
    const env = { KV_STALE_MS: '10' };
    const first = settings(env);
    expect(settings(env)).toBe(first);
    expect(settings({ KV_STALE_MS: '10' })).toBe(first); // another object with the same values
    expect(settings({ KV_STALE_MS: '11' }).staleMs).toBe(11);
    expect(settings({ KV_STALE_MS: '10', KV_WRITE_GAP_MS: '' })).not.toBe(first); // set (to empty) is not unset
  });
});
