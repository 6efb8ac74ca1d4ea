// A client without cookies (the snippet on another origin) keeps the signed profile itself:
// /v1/decide returns it when asked and takes it back, so tests stay sticky per visitor.
import { beforeEach, describe, expect, it } from 'vitest';
import { createAndLaunch } from './experiment-helpers.ts';
import { postJson, resetCaches } from './helpers.ts';

beforeEach(resetCaches);

type Decided = { profile?: string; decisions: Array<{ variant: string; sticky: boolean; propensity: number }> };

describe('the profile in the body', () => {
  it('is returned when asked for, and keeps the visitor on their arm when sent back', async () => {
    await createAndLaunch('bodyprof', { sticky: true });
    const ask = (profile?: string) =>
      postJson('/v1/decide', {
        visitorId: 'body-profile-visitor',
        ...(profile !== undefined ? { profile } : {}),
        slots: [{ id: 'hero', experiment: 'bodyprof' }],
      }).then((r) => r.json() as Promise<Decided>);
    const first = await ask('');
    expect(first.profile).toMatch(/\.[A-Za-z0-9_-]+$/); // payload.signature
    expect(first.decisions[0]!.sticky).toBe(false);
    const again = await ask(first.profile);
    expect(again.decisions[0]).toMatchObject({ variant: first.decisions[0]!.variant, sticky: true });
    // without it the server has nothing to keep the visitor on (no cookies came)
    expect((await ask()).decisions[0]!.sticky).toBe(false);
    expect((await ask()).profile).toBeUndefined();
    // a tampered profile is ignored, never trusted
    const forged = `${first.profile!.slice(0, -4)}AAAA`;
    expect((await ask(forged)).decisions[0]!.sticky).toBe(false);
  });

  it('refuses a profile over 4 KB with a 400 naming the field', async () => {
    const res = await postJson('/v1/decide', { profile: 'x'.repeat(5000), slots: [{ id: 'hero', candidates: ['a'] }] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe('profile');
  });
});
