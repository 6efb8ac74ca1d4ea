/** The Worker's settings (src/worker/shared/settings.ts): one rule for every number, parsed once per environment. */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { MIN_SECRET_LENGTH, secretProblem } from '../../src/core/secret-strength.ts';
import { numberVar, settings } from '../../src/worker/shared/settings.ts';
import { parseDevVars } from '../../scripts/dev-vars.ts';

const ADMIN = 'unit-admin-token-0123456789abcdef';
const P1 = 'unit-partner-one-0123456789abcdef';
const P2 = 'unit-partner-two-0123456789abcdef';
const SECRET = 'unit-signing-secret-0123456789abcdef';

describe('settings', () => {
  it("are wrangler.toml's defaults when nothing is set", () => {
    expect(settings({})).toEqual({
      refreshMs: 5000,
      writeGapMs: 1000,
      staleMs: 60_000,
      originTimeoutMs: 10_000,
      allowedOrigins: [], // no browser origin: a deployment names its site
      adminToken: undefined,
      adminTokens: [],
      partnerTokens: [],
      signingSecret: undefined,
      legacySecret: false,
      adminHosts: [],
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
    expect(settings({ ADMIN_HOST: ' Admin.Example.com:8443, ,admin.localhost' }).adminHosts).toEqual([
      'admin.example.com',
      'admin.localhost',
    ]);
    expect(settings({ ALLOWED_ORIGINS: ' , ' }).allowedOrigins).toEqual([]);
    expect(settings({ ADMIN_TOKEN: ` ${ADMIN} `, PARTNER_TOKENS: `${P1}, ,${P2},` }).partnerTokens).toEqual([ADMIN, P1, P2]);
    expect(settings({ ADMIN_TOKEN: '', SIGNING_SECRET: '' })).toMatchObject({ adminToken: undefined, signingSecret: undefined });
    expect(settings({ SIGNING_SECRET: SECRET })).toMatchObject({ signingSecret: SECRET, legacySecret: false });
  });

  it('read labelled admin tokens (ADMIN_TOKENS) by the same strength rule as ADMIN_TOKEN', () => {
    const s = settings({ ADMIN_TOKEN: ADMIN, ADMIN_TOKENS: ` bob:short, carol:${P1} ,no-colon-${P2}, :${P2}` });
    expect(s.adminTokens).toEqual([
      { label: 'admin', token: ADMIN },
      { label: 'carol', token: P1 },
    ]);
    // a weak ADMIN_TOKEN is no admin token, but a strong labelled one still is
    expect(settings({ ADMIN_TOKEN: 'weak', ADMIN_TOKENS: `carol:${P1}` }).adminTokens).toEqual([{ label: 'carol', token: P1 }]);
  });

  it('read the signing secret under its old name, PROFILE_SECRET, for one release', () => {
    const old = `old-${SECRET}`;
    expect(settings({ PROFILE_SECRET: old })).toMatchObject({ signingSecret: old, legacySecret: true });
    expect(settings({ SIGNING_SECRET: SECRET, PROFILE_SECRET: old })).toMatchObject({ signingSecret: SECRET, legacySecret: false });
    expect(settings({ SIGNING_SECRET: '', PROFILE_SECRET: '' })).toMatchObject({ signingSecret: undefined, legacySecret: false });
  });

  it('refuse short and example secrets as not configured, logging the setting and why, never the value', () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      const short = 'x'.repeat(MIN_SECRET_LENGTH - 1);
      const s = settings({
        ADMIN_TOKEN: 'change-me-too',
        SIGNING_SECRET: 'change-me-to-a-long-random-string',
        PARTNER_TOKENS: `${P1},a,${short}`,
      });
      expect(s).toMatchObject({ adminToken: undefined, signingSecret: undefined, partnerTokens: [P1] });
      expect(settings({ PROFILE_SECRET: short })).toMatchObject({ signingSecret: undefined, legacySecret: true });
      expect(settings({ ADMIN_TOKEN: 'x'.repeat(MIN_SECRET_LENGTH) }).adminToken).toBe('x'.repeat(MIN_SECRET_LENGTH));
    } finally {
      spy.mockRestore();
    }
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.map((l) => [l.setting, l.entry, l.reason])).toEqual([
      ['ADMIN_TOKEN', undefined, 'the example value from .dev.vars.example'],
      ['PARTNER_TOKENS', 2, `shorter than ${MIN_SECRET_LENGTH} characters`],
      ['PARTNER_TOKENS', 3, `shorter than ${MIN_SECRET_LENGTH} characters`],
      ['SIGNING_SECRET', undefined, 'the example value from .dev.vars.example'],
      ['PROFILE_SECRET', undefined, `shorter than ${MIN_SECRET_LENGTH} characters`],
    ]);
    for (const l of lines) expect(l).not.toMatch(/change-me|xxxx/);
  });

  it('refuse every example value of .dev.vars.example, whatever its length', () => {
    const example = parseDevVars(readFileSync(new URL('../../.dev.vars.example', import.meta.url), 'utf8'));
    const values = [...example.values()]
      .flatMap((v) => v.split(','))
      .map((v) => v.slice(v.indexOf(':') + 1).trim())
      .filter(Boolean);
    expect(values.length).toBeGreaterThanOrEqual(3);
    for (const v of values) expect(secretProblem(v), v).not.toBeNull();
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
