// The CLIs as users run them: argument parsing, files written, publishing and the gate.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSyntheticLog } from '../../src/train/synthetic-log.ts';

const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, [join('src/train', script), ...args], { encoding: 'utf8', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' }, timeout: 120_000 });

describe('npm run train / evaluate', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attune-cli-'));
  const log = join(dir, 'log');
  await writeSyntheticLog(log, { decisions: 30_000, seed: 21 });

  it('trains, writes the blob and the report, and publishes to local KV', () => {
    const r = run('train.ts', ['--log', log, '--name', 'cli-hero', '--version', 'v1', '--bits', '14', '--out', join(dir, 'm.bin'),
      '--report', join(dir, 'report.json'), '--publish', '--gate', '--persist', join(dir, 'state'), '--quiet']);
    expect(r.stderr).not.toMatch(/train:/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/published cli-hero@v1 \(local KV\)/);
    expect(r.stdout).toMatch(/AUC 0\.\d+ vs 0\.5/);
  }, 120_000);

  it('reports the holdout in JSON', async () => {
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    expect(report.holdout.examples).toBeGreaterThan(5000);
    expect(report.holdout.auc).toBeGreaterThan(0.62);
    expect(report.holdout.logLoss).toBeLessThan(report.holdout.baselineLogLoss);
    expect(report.join).toMatchObject({ decisions: 30_000, duplicateDecisions: 0 });
  });

  it('refuses to publish under --gate when the model does not beat the baseline', () => {
    const r = run('train.ts', ['--log', log, '--name', 'cli-none', '--label', 'purchase', '--out', join(dir, 'none.bin'), '--publish', '--gate', '--persist', join(dir, 'state'), '--quiet']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not published/);
  });

  it('evaluates the trained model off-policy against the uniform logging policy', async () => {
    const r = run('evaluate.ts', ['--log', log, '--model', join(dir, 'm.bin'), '--policy', '{"type":"greedy","epsilon":0.1}', '--replicates', '200', '--json', join(dir, 'ope.json')]);
    expect(r.status).toBe(0);
    const ope = JSON.parse(await readFile(join(dir, 'ope.json'), 'utf8'));
    expect(ope.n).toBe(30_000);
    // the learned greedy policy beats the uniform one that logged the data
    expect(ope.dr.value).toBeGreaterThan(ope.logging.value);
    expect(ope.snips.low).toBeLessThanOrEqual(ope.snips.value);
    expect(r.stdout).toMatch(/SNIPS/);
  }, 60_000);

  it('names missing arguments instead of failing obscurely', () => {
    const r = run('train.ts', ['--name', 'x']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--log/);
  });
});
