/** `npm run experiments` against a real local Worker: the scripted lifecycle and its errors. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/train/experiments-cli.ts';
import { startWorker, stopAllWorkers, type WorkerProcess } from './worker-process.ts';

let worker: WorkerProcess;
beforeAll(async () => {
  worker = await startWorker();
}, 180_000);
afterAll(stopAllWorkers);

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli([...args, '--url', worker.url, '--token', worker.adminToken], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('experiments CLI', () => {
  it('creates, launches, reports, stops; errors exit 1 with the API error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'attune-cli-'));
    const file = path.join(dir, 'cta.json');
    writeFileSync(
      file,
      JSON.stringify({
        key: 'cta',
        name: 'CTA copy',
        goals: ['click'],
        algorithm: { name: 'ucb1', floor: 0.05 },
        arms: [
          { key: 'buy', payload: { type: 'text', value: 'Buy now' } },
          { key: 'try', payload: { type: 'url', value: 'https://cdn.example/try.png' } },
        ],
      }),
    );
    expect((await cli('create', file)).code).toBe(0);
    const dup = await cli('create', file);
    expect(dup.code).toBe(1);
    expect(dup.err).toContain('409');
    expect((await cli('launch', 'cta')).code).toBe(0);
    const list = await cli('list');
    expect(list.out).toMatch(/^cta\s+running\s+v2 ucb1 \[buy, try\]/m);
    const results = await cli('results', 'cta');
    expect(results.code).toBe(0);
    expect(results.out).toContain('recommendation: keep_exploring');
    expect(results.out).toMatch(/^buy\s+0\s+0/m);
    const csv = await cli('results', 'cta', '--csv');
    expect(csv.out.split('\n')[0]).toMatch(/^arm,impressions,conversions,rate/);
    expect((await cli('pause', 'cta')).code).toBe(0);
    const stop = await cli('stop', 'cta', '--winner', 'try');
    expect(JSON.parse(stop.out)).toMatchObject({ status: 'stopped', winner: 'try' });
    const resume = await cli('resume', 'cta');
    expect(resume.code).toBe(1);
    expect(resume.err).toContain('illegal_transition');
    expect((await cli('get', 'missing')).code).toBe(1);
    expect((await cli('launch')).code).toBe(2);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
