/**
 * The demo's bandit test (demo/experiments/demo-hero.json), created and launched through the
 * admin API once `npm start`'s Worker answers: the Durable Object that aggregates a test must
 * take every write, so a test cannot be seeded into KV the way page rules are. A test that
 * exists already (state kept in .wrangler between runs) is left as it is, launched if a draft.
 */
import { readFileSync } from 'node:fs';

export const DEMO_EXPERIMENT = 'demo/experiments/demo-hero.json';

async function until(url: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(3000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** One line saying what became of the demo test. */
/** `adminBase`: where the admin page answers (ADMIN_HOST's URL under npm start; the API answers on `base`). */
export async function seedDemoExperiment(base: string, token: string, adminBase = base, waitMs = 180_000): Promise<string> {
  const config = JSON.parse(readFileSync(DEMO_EXPERIMENT, 'utf8')) as { key: string };
  if (!(await until(`${base}/healthz`, waitMs))) return `demo test ${config.key}: the Worker did not come up`;
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const created = await call('POST', '/admin/experiments', config);
  if (created.status !== 201 && created.status !== 409)
    return `demo test ${config.key}: create answered ${created.status} ${await created.text()}`;
  const current = (await (await call('GET', `/admin/experiments/${config.key}`)).json()) as { status?: string };
  if (current.status === 'draft') {
    const launched = await call('POST', `/admin/experiments/${config.key}/launch`);
    if (launched.status !== 200) return `demo test ${config.key}: launch answered ${launched.status} ${await launched.text()}`;
    current.status = 'running';
  }
  return (
    `demo test ${config.key}: ${current.status} on ${base}/ (the hero headline); ${adminBase}/ui/experiments/${config.key} shows it, ` +
    '`npm run demo:clicks` simulates a few seconds of clicks'
  );
}
