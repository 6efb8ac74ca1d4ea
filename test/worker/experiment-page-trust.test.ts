// The admin page growth teams act on: confirmation before stop, re-randomize and archive; the
// winner picker at the arm most likely best; a stopped test reads as stopped; "no data yet";
// sign-out; the create form's rules and its bad field named; the list's leader, P(best), days
// running and health verdict; the SRM banner, segments, guardrails, time to decision and audit log.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DecisionRecord } from '../../src/core/decision-record.ts';
import { forwardToExperiments } from '../../src/worker/experiments/forward.ts';
import { FORM_FIELDS } from '../../src/worker/experiments/page-form.ts';
import worker from '../../src/worker/index.ts';
import { createAndLaunch, exposure, outcome } from './experiment-helpers.ts';
import { cookiesOf, fetchWorker, resetCaches } from './helpers.ts';

/** The admin page answers on ADMIN_HOST only in proxy mode (vitest.config.ts: admin.attune.test). */
const fetchAdmin = (path: string, init?: RequestInit) => exports.default.fetch(new Request(`http://admin.attune.test${path}`, init));

beforeEach(resetCaches);

const form = (fields: Record<string, string>, cookie?: string) => ({
  method: 'POST',
  redirect: 'manual' as const,
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
  body: new URLSearchParams(fields).toString(),
});

async function signIn(): Promise<string> {
  const res = await fetchAdmin('/ui/experiments/login', form({ token: env.ADMIN_TOKEN }));
  return `att_admin=${cookiesOf(res).att_admin}`;
}

const getPage = async (path: string, cookie: string) => (await fetchAdmin(path, { headers: { cookie } })).text();

function exposures(key: string, arm: string, n: number, extra: Partial<DecisionRecord> = {}): DecisionRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    ...exposure(key, `${key}-${arm}-${i}`, `${key}-v-${arm}-${i}`, arm, Date.now()),
    ...extra,
  }));
}
const conversions = (key: string, arm: string, n: number) =>
  Array.from({ length: n }, (_, i) => outcome(key, `${key}-o-${arm}-${i}`, `${key}-v-${arm}-${i}`, Date.now() + 5));

describe('admin page people trust', () => {
  it('says "no data yet" for a test without exposures, never an interval', async () => {
    const cookie = await signIn();
    await createAndLaunch('tr-empty');
    const detail = await getPage('/ui/experiments/tr-empty', cookie);
    expect(detail).toMatch(/<p id="recommendation"><b>no data yet<\/b>/);
    expect(detail).toContain('<td class="n muted" colspan="2">no data yet</td>');
    expect(detail).not.toContain('2.44 %'); // Beta(1, 1)'s 2.5 % quantile, the old "2–97 %" interval
    expect(detail).toContain('id="time-to-decision"><b>Time to decision:</b> no data yet');
    const list = await getPage('/ui/experiments', cookie);
    expect(list).toMatch(/<tr data-key="tr-empty">[\s\S]*?no data yet[\s\S]*?<\/tr>/);
  });

  it('asks before stopping, starts the winner picker at the arm most likely best, and reads as stopped after', async () => {
    const cookie = await signIn();
    await createAndLaunch('tr-stop');
    await forwardToExperiments(env, [
      ...exposures('tr-stop', 'a', 300),
      ...exposures('tr-stop', 'b', 300),
      ...conversions('tr-stop', 'b', 60),
    ]);
    const detail = await getPage('/ui/experiments/tr-stop', cookie);
    expect(detail).toContain('<option value="b" selected>b (most likely best)</option>');
    expect(detail).toContain('<option value="a" >a</option>');

    const asked = await fetchAdmin('/ui/experiments/tr-stop/stop', form({ winner: 'b' }, cookie));
    expect(asked.status).toBe(200);
    const confirm = await asked.text();
    expect(confirm).toContain('every visitor will get b from now on');
    expect(confirm).toContain('<input type="hidden" name="confirm" value="yes">');
    expect(await getPage('/ui/experiments/tr-stop', cookie)).toContain('id="status">running<'); // nothing changed yet
    for (const action of ['rerandomize', 'archive']) {
      const r = await fetchAdmin(`/ui/experiments/tr-stop/${action}`, form({}, cookie));
      expect(r.status, action).toBe(200);
      expect(await r.text()).toContain('id="confirm"');
    }
    expect((await fetchAdmin('/ui/experiments/tr-stop/stop', form({ winner: 'b', confirm: 'yes' }, cookie))).status).toBe(303);
    const stopped = await getPage('/ui/experiments/tr-stop', cookie);
    expect(stopped).toContain('Stopped: <b>b</b> is served to 100 % of visitors.');
    expect(stopped).not.toContain('keep exploring');
    expect(stopped).toMatch(/<th>served<\/th>/);
    expect(stopped).toMatch(/<tr data-arm="b">[\s\S]*?100\.0 %/);
    // the audit log names who stopped it
    expect(stopped).toMatch(/<td>admin<\/td><td>stop<\/td><td>winner b<\/td>/);
    const list = await getPage('/ui/experiments', cookie);
    expect(list).toMatch(/<tr data-key="tr-stop">[\s\S]*?stopped<\/span> <span class="muted">→ b<\/span>/);
  });

  it('shows every field rule on the create form, and marks and names the bad field', async () => {
    const cookie = await signIn();
    const list = await getPage('/ui/experiments', cookie);
    for (const f of FORM_FIELDS) expect(list, f.name).toContain(`<small class="rule" id="rule-${f.name}">`);
    expect(list).toMatch(/<option ?>fixed<\/option>/);
    expect(list).toContain('<button type="submit" id="sign-out">Sign out</button>');
    const bad = await fetchAdmin(
      '/ui/experiments',
      form({ key: 'tr-bad', name: 'Bad floor', arms: 'a | A\nb | B', goals: 'click', algorithm: 'thompson', floor: '0.9' }, cookie),
    );
    expect(bad.status).toBe(400);
    const page = await bad.text();
    expect(page).toContain('<div class="invalid" id="field-floor">');
    expect(page).toMatch(/<input id="floor"[^>]*aria-invalid="true"/);
    expect(page).toContain('Check <b>Exploration floor per arm</b>: algorithm.floor: 0.9 × 2 arms exceeds 1');
    expect(page).toContain('value="Bad floor"'); // what was typed stays
    const weights = await fetchAdmin(
      '/ui/experiments',
      form({ key: 'tr-w', name: 'W', arms: 'a | A\nb | B', goals: 'click', algorithm: 'fixed', weights: '1' }, cookie),
    );
    expect(await weights.text()).toContain('<div class="invalid" id="field-weights">');
    const fixed = await fetchAdmin(
      '/ui/experiments',
      form(
        {
          key: 'tr-fixed',
          name: 'Fixed',
          arms: 'a | A\nb | B',
          goals: 'click',
          algorithm: 'fixed',
          weights: '30, 70',
          guardrails: 'refund',
        },
        cookie,
      ),
    );
    expect(fixed.status).toBe(303);
    const api = await (
      await fetchWorker('/admin/experiments/tr-fixed', { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } })
    ).json();
    expect(api).toMatchObject({ algorithm: { name: 'fixed', weights: [30, 70] }, guardrails: [{ goal: 'refund' }] });
  });

  it("lists each test's status, leader with P(best), days running and health verdict", async () => {
    const cookie = await signIn();
    await createAndLaunch('tr-list');
    await forwardToExperiments(env, [
      ...exposures('tr-list', 'a', 200),
      ...exposures('tr-list', 'b', 200),
      ...conversions('tr-list', 'a', 40),
    ]);
    const list = await getPage('/ui/experiments', cookie);
    const row = /<tr data-key="tr-list">([\s\S]*?)<\/tr>/.exec(list)![1]!;
    expect(row).toContain('<span class="badge running">running</span>');
    expect(row).toMatch(/a <span class="muted">P\(best\) 1\.00<\/span>/);
    expect(row).toMatch(/<td class="n">0 h<\/td>/);
    expect(row).toMatch(/<td class="health"><span class="ok">healthy: 400 exposures, SRM p = /);
  });

  it('shows a red SRM banner, the segments, guardrails, time to decision and a fixed split’s always-valid read-out', async () => {
    const cookie = await signIn();
    await createAndLaunch('tr-srm', { algorithm: { name: 'fixed', floor: 0 }, guardrails: [{ goal: 'refund' }] });
    await forwardToExperiments(env, [
      ...exposures('tr-srm', 'a', 700),
      ...exposures('tr-srm', 'b', 300),
      ...conversions('tr-srm', 'a', 30),
    ]);
    const detail = await getPage('/ui/experiments/tr-srm', cookie);
    expect(detail).toContain('<p class="banner srm" id="srm-banner" role="alert">Sample ratio mismatch');
    expect(detail).toContain('<table id="segments">');
    expect(detail).toContain('data-segment="device:desktop"');
    expect(detail).toContain('<table id="guardrails">');
    expect(detail).toContain('<table id="sequential-table">');
    expect(detail).toMatch(/id="sequential"><b>(keep running|decision reached)<\/b>/);
    expect(detail).toMatch(
      /id="time-to-decision"><b>Time to decision:<\/b> (about \d+ days? more|decided|no decision expected|the arms look identical)/,
    );
    expect(detail).toContain('<table id="audit">');
  });

  it("names a labelled token's holder in the audit log, and ends that token's sessions when it is removed", async () => {
    const alice = 'test-admin-token-alice-0123456789abcdef'; // vitest.config.ts: ADMIN_TOKENS alice:<token>
    const res = await fetchAdmin('/ui/experiments/login', form({ token: alice }));
    expect(res.status).toBe(303);
    const cookie = `att_admin=${cookiesOf(res).att_admin}`;
    await createAndLaunch('tr-alice');
    expect((await fetchAdmin('/ui/experiments/tr-alice/pause', form({}, cookie))).status).toBe(303);
    expect(await getPage('/ui/experiments/tr-alice', cookie)).toMatch(/<td>alice<\/td><td>pause<\/td>/);
    // alice's token taken out of ADMIN_TOKENS: her session is no longer one
    const ctx = createExecutionContext();
    const gone = await worker.fetch(
      new Request('http://admin.attune.test/ui/experiments', { headers: { cookie }, redirect: 'manual' }),
      { ...env, ADMIN_TOKENS: '' } as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(gone.status).toBe(303);
    expect(gone.headers.get('location')).toBe('/ui/experiments/login');
  });
});
