// insights --publish: the report and its findings land in the local R2 bucket under reports/, where
// the admin page (test/worker/insights-reports.test.ts) lists them.
import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPORT_NAME, REPORT_PREFIX } from '../../src/core/report-keys.ts';
import { platformPersist } from '../../src/train/storage.ts';
import { writeSyntheticLog } from '../../src/train/synthetic-log.ts';

interface R2 {
  list(o: { prefix: string }): Promise<{ objects: { key: string }[] }>;
  get(k: string): Promise<{ text(): Promise<string> } | null>;
}

it('uploads the report and its findings to reports/<site>/<date>_<run>', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'insights-publish-log-'));
  const persist = await mkdtemp(join(tmpdir(), 'insights-publish-r2-'));
  await writeSyntheticLog(dir, {
    decisions: 3 * 8640,
    gapMs: 10_000,
    start: Date.UTC(2026, 10, 1),
    seed: 2,
    anomaly: true,
    perObject: 1000,
  });
  const r = spawnSync(
    join(process.cwd(), 'node_modules/.bin/node'),
    ['src/train/insights.ts', '--log', dir, '--publish', '--persist', persist],
    {
      encoding: 'utf8',
      timeout: 90_000,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    },
  );
  expect(r.status, r.stderr).toBe(0);
  const { getPlatformProxy } = await import('wrangler');
  const proxy = await getPlatformProxy<{ LOG: R2 }>({ persist: platformPersist(persist) });
  try {
    const keys = (await proxy.env.LOG.list({ prefix: REPORT_PREFIX })).objects.map((o) => o.key).sort();
    expect(keys).toHaveLength(2);
    const name = keys[0]!.slice(REPORT_PREFIX.length, -'.html'.length);
    expect(name).toMatch(REPORT_NAME);
    expect(name.startsWith('default/2026-11-03_')).toBe(true);
    expect(keys).toEqual([`${REPORT_PREFIX}${name}.html`, `${REPORT_PREFIX}${name}.json`]);
    const html = await (await proxy.env.LOG.get(keys[0]!))!.text();
    expect(html).toContain('Click rate of slot hero, variant bold fell');
    const json = JSON.parse(await (await proxy.env.LOG.get(keys[1]!))!.text()) as { findings: { metric: string }[] };
    expect(json.findings.some((f) => f.metric === 'ctr')).toBe(true);
  } finally {
    await proxy.dispose();
  }
}, 120_000);
