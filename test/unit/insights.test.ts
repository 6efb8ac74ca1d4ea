// npm run insights on a log with known answers: `log:synth --anomaly` halves bold's click rate on
// the last full day and makes blog visitors prefer bold where control is best overall; the
// report must find both, through the CLI and its JSON, and say nothing of the kind without them.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/train/insights/findings.ts';
import { runInsights } from '../../src/train/insights/run.ts';
import { openLog } from '../../src/train/log/open-log.ts';
import { writeSyntheticLog } from '../../src/train/synthetic-log.ts';

const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 1);
/** three days, a decision every 4 s: the last full day is the third, compared with the second */
const LOG = { decisions: (3 * DAY) / 4000, gapMs: 4000, start: START };

const node = join(process.cwd(), 'node_modules/.bin/node');

function cli(args: string[]) {
  return spawnSync(node, ['src/train/insights.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('insights on log:synth --anomaly', () => {
  let dir: string;
  let out: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'insights-anomaly-'));
    out = await mkdtemp(join(tmpdir(), 'insights-out-'));
    await writeSyntheticLog(dir, { ...LOG, seed: 3, anomaly: true });
  }, 60_000);

  it('finds the halving of bold and the blog segment, in the JSON the CLI writes', () => {
    const html = join(out, 'report.html');
    const json = join(out, 'findings.json');
    const r = cli(['--log', dir, '--out', html, '--json', json]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as { findings: Finding[] };
    expect(Object.keys(doc)).toEqual(['findings']);
    for (const f of doc.findings)
      expect(Object.keys(f)).toEqual([
        'kind',
        'subject',
        'metric',
        'before',
        'after',
        'change',
        'interval',
        'severity',
        'sentence',
        'against',
      ]);
    const bold = doc.findings.find(
      (f) =>
        (f.kind === 'shift' || f.kind === 'anomaly') &&
        f.against === 'previous' &&
        f.metric === 'ctr' &&
        f.subject.slot === 'hero' &&
        f.subject.variant === 'bold',
    );
    expect(bold).toBeDefined();
    expect(bold!.change).toBeLessThan(0);
    // the truth is −50 %: the interval holds it
    expect(bold!.interval![0]).toBeLessThan(-0.5);
    expect(bold!.interval![1]).toBeGreaterThan(-0.5);
    expect(bold!.sentence).toMatch(/bold fell −\d+ %/);
    const seg = doc.findings.find((f) => f.kind === 'segment' && f.subject.page_type === 'blog');
    expect(seg).toMatchObject({ metric: 'ctr', subject: { slot: 'hero', page_type: 'blog', variant: 'bold' } });
    expect(seg!.change).toBeGreaterThan(0);
    // no other variant moved
    expect(doc.findings.filter((f) => f.kind === 'shift' && f.subject.variant !== 'bold')).toEqual([]);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain(bold!.sentence.replaceAll('>', '&gt;'));
    expect(page).toMatch(/<a href="#chart-slot-hero-bold-ctr">chart<\/a>/);
    expect(page).toContain('id="chart-slot-hero-bold-ctr"');
    expect(page).toContain('id="chart-segment-hero-page_type-ctr"');
    expect(page).not.toMatch(/<script|src="http|href="http/);
  }, 90_000);

  it('takes --from/--to: a period with no shift (the second day against the first) finds none', async () => {
    const log = await openLog({ log: [dir] });
    try {
      const r = await runInsights(log, { from: START + DAY, to: START + 2 * DAY });
      expect(r!.periods).toEqual({ compareFrom: START, from: START + DAY, to: START + 2 * DAY });
      expect(r!.comparisons.shift).toBeGreaterThanOrEqual(3);
      // the stale model is injected throughout: every period reports it, and only it
      expect(r!.findings.filter((f) => f.kind === 'shift' || f.kind === 'anomaly').map((f) => f.metric)).toEqual(['model_version_age']);
    } finally {
      await log.close();
    }
  }, 60_000);

  it('answers a bad command line with one line and exit 2', () => {
    const r = cli(['--log', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('insights: name an output: --out report.html, --json findings.json and/or --publish');
  }, 30_000);
});
