/**
 * Decision quality on the slice of UCI Online Retail shipped in data-samples/: `npm run recs:eval`
 * with no arguments, as in a fresh clone, end to end (a few seconds). It fails if the served
 * model, asked with a customer's orders, stops beating the customer's own purchase counts on
 * next basket, or loses basket completion. The full-data figures are in docs/recommendations.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeItemKnn } from '../../src/core/recs/itemknn-model.ts';

const evalCli = (args: string[]) =>
  spawnSync(process.execPath, ['src/train/recs/evaluate.ts', ...args], { encoding: 'utf8', timeout: 120_000 });

/** The rows of the markdown table under `title`: method → [HR, recall, NDCG]. */
function table(out: string, title: string): Map<string, number[]> {
  const lines = out.split('\n');
  const at = lines.findIndex((l) => l.startsWith(title));
  expect(at, title).toBeGreaterThanOrEqual(0);
  const rows = new Map<string, number[]>();
  for (const line of lines.slice(at + 3)) {
    if (!line.startsWith('| ')) break;
    const [name, ...cells] = line.slice(2, -2).split(' | ');
    rows.set(name!, cells.map(Number));
  }
  return rows;
}

describe('recs:eval on the shipped slice', () => {
  it('runs with no arguments, says which data it used, and the served model beats own purchase counts', { timeout: 120_000 }, () => {
    const r = evalCli([]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^data: data-samples\/online-retail-slice\.csv\.gz \(the shipped slice/);
    // the next-basket model was fitted, and on its validation customers it beat their own counts
    const fit = JSON.parse(
      r.stdout
        .split('\n')
        .find((l) => l.startsWith('next-basket fit '))!
        .slice('next-basket fit '.length),
    );
    expect(fit.recall10).toBeGreaterThan(fit.ownCountRecall10 * 1.05);
    const next = table(r.stdout, '(b) next basket');
    const own = next.get('own purchase counts')![1]!;
    const served = next.get('orders (learned), served')![1]!;
    expect(served).toBeGreaterThan(own * 1.03); // recall@10
    expect(served).toBeGreaterThan(next.get('own purchase counts, then popularity')![1]! * 1.03);
    expect(served).toBeGreaterThan(next.get('item-item + repeat 1, served')![1]!);
    const one = table(r.stdout, '(a) basket completion, one item hidden');
    expect(one.get('item-item, served')![0]).toBeGreaterThan(0.2); // HR@10
    expect(one.get('item-item, served')![0]).toBeGreaterThan(4 * one.get('popularity')![0]!);
  });

  it('recs:train reads the gzipped slice as the retail export and fits the next-basket model on it', { timeout: 120_000 }, async () => {
    const out = await mkdtemp(join(tmpdir(), 'attune-slice-'));
    const r = spawnSync(
      process.execPath,
      ['src/train/recs/train.ts', '--csv', 'data-samples/online-retail-slice.csv.gz', '--out', out, '--version', 'v1'],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^next basket: fitted \{/m);
    const blob = await readFile(join(out, 'recs@v1.bin'));
    const d = decodeItemKnn(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength) as ArrayBuffer);
    expect(d.ok && d.model.next.learned).toBe(true);
  });

  it('a missing file is one line and exit 2, not a stack trace (recs:eval and recs:train)', () => {
    const e = evalCli(['--csv', '/nonexistent/retail.csv']);
    expect(e.status).toBe(2);
    expect(e.stderr).toBe('recs:eval: no such file: /nonexistent/retail.csv\n');
    const t = spawnSync(process.execPath, ['src/train/recs/train.ts', '--csv', '/nonexistent/retail.csv'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(t.status).toBe(2);
    expect(t.stderr).toBe('recs:train: no such file: /nonexistent/retail.csv\n');
    const bad = evalCli(['--test-days', '0']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^recs:eval: --test-days must be/);
    const help = evalCli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^ {2}--csv FILE /m);
  }, 60_000); // four Node processes
});
