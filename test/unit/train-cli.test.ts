// The CLIs as users run them: argument parsing, files written, publishing and the gate.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSyntheticLog } from '../../src/train/synthetic-log.ts';

const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, [join('src/train', script), ...args], {
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
    timeout: 120_000,
  });

describe('npm run train / evaluate', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attune-cli-'));
  const log = join(dir, 'log');
  await writeSyntheticLog(log, { decisions: 30_000, seed: 21 });

  it('trains, writes the blob and the report, and publishes to local KV', () => {
    const r = run('train.ts', [
      '--log',
      log,
      '--name',
      'cli-hero',
      '--version',
      'v1',
      '--bits',
      '14',
      '--out',
      join(dir, 'm.bin'),
      '--report',
      join(dir, 'report.json'),
      '--publish',
      '--gate',
      '--persist',
      join(dir, 'state'),
      '--quiet',
    ]);
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
    const r = run('train.ts', [
      '--log',
      log,
      '--name',
      'cli-none',
      '--label',
      'purchase',
      '--out',
      join(dir, 'none.bin'),
      '--publish',
      '--gate',
      '--persist',
      join(dir, 'state'),
      '--quiet',
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/not published/);
  });

  it('evaluates the trained model off-policy against the uniform logging policy', async () => {
    const r = run('evaluate.ts', [
      '--log',
      log,
      '--model',
      join(dir, 'm.bin'),
      '--policy',
      '{"type":"greedy","epsilon":0.1}',
      '--replicates',
      '200',
      '--json',
      join(dir, 'ope.json'),
    ]);
    expect(r.status).toBe(0);
    const ope = JSON.parse(await readFile(join(dir, 'ope.json'), 'utf8'));
    expect(ope.n).toBe(30_000);
    // the learned greedy policy beats the uniform one that logged the data
    expect(ope.dr.value).toBeGreaterThan(ope.logging.value);
    expect(ope.snips.low).toBeLessThanOrEqual(ope.snips.value);
    expect(r.stdout).toMatch(/SNIPS/);
  }, 60_000);

  it('takes the time range from the decisions training reads: torn, future-dated and look-alike lines do not move it', async () => {
    const { decisionRange } = await import('../../src/train/log/range.ts');
    const { openLog } = await import('../../src/train/log/open-log.ts');
    const rangeOf = async (dirs: string[]) => {
      const handle = await openLog({ log: dirs });
      try {
        return await decisionRange(handle);
      } finally {
        await handle.close();
      }
    };
    const clean = await rangeOf([log]);
    const dirty = join(dir, 'dirty');
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(dirty);
    await writeFile(
      join(dirty, 'z-bad.ndjson'),
      [
        '{"type":"decision","v":1,"id":"torn","ts":17934', // cut mid-write
        `{"type":"decision","v":1,"id":"future","ts":${Date.now() + 10 * 86_400_000},"kind":"content"}`,
        `{"type":"outcome","v":1,"id":"o","ts":1,"name":"click","props":{"note":"\\"type\\":\\"decision\\""}}`,
        '{"type":"decision","v":1,"id":"no-ts"}',
      ].join('\n'),
    );
    expect(clean).not.toBeNull();
    expect(await rangeOf([log, dirty])).toEqual(clean);
  });

  it('refuses to write or publish a model with nothing to train on', async () => {
    const { mkdir, writeFile } = await import('node:fs/promises');
    const one = join(dir, 'one');
    await mkdir(one);
    // three real decisions, all at one instant: the holdout cutoff takes them all
    const { readdirSync, readFileSync } = await import('node:fs');
    const { gunzipSync } = await import('node:zlib');
    const lines: string[] = [];
    for (const f of (readdirSync(log, { recursive: true }) as string[]).filter((f) => f.endsWith('.gz')).sort())
      for (const l of gunzipSync(readFileSync(join(log, f)))
        .toString()
        .split('\n'))
        if (lines.length < 3 && l.startsWith('{"type":"decision"')) lines.push(l);
    const t = Date.UTC(2026, 10, 1);
    await writeFile(join(one, 'a.ndjson'), lines.map((l) => JSON.stringify({ ...JSON.parse(l), ts: t })).join('\n'));
    const r = run('train.ts', [
      '--log',
      one,
      '--name',
      'cli-empty',
      '--out',
      join(dir, 'empty.bin'),
      '--publish',
      '--gate',
      '--persist',
      join(dir, 'state'),
      '--quiet',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no decisions to train on/);
    expect(r.stdout).not.toMatch(/published/);
  });

  it('names missing arguments instead of failing obscurely', () => {
    const r = run('train.ts', ['--name', 'x']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--log/);
  });
});

describe('publishing a models directory', () => {
  it('checks every file first and writes nothing when one is bad (no half-published directory)', async () => {
    const { publishDirectory } = await import('../../src/train/publish.ts');
    const { writeFile, mkdir } = await import('node:fs/promises');
    const dir = await mkdtemp(join(tmpdir(), 'attune-models-'));
    const good = JSON.parse(await readFile('models/hero-headline.json', 'utf8'));
    await writeFile(join(dir, 'a.json'), JSON.stringify({ ...good, name: 'a-model' }));
    await writeFile(join(dir, 'b.json'), JSON.stringify({ ...good, name: 'b-model', bias: { nope: 1 } }));
    await writeFile(join(dir, 'segments.json'), JSON.stringify({ segments: 'garbage' }));
    await mkdir(join(dir, 'compiled'), { recursive: true });
    const written = new Map<string, unknown>();
    const store = {
      storage: { getBytes: async () => null, getText: async () => null, put: async (k: string, v: unknown) => void written.set(k, v) },
      putJson: async (k: string, v: unknown) => void written.set(k, v),
      close: async () => {},
    };
    const lines: string[] = [];
    expect(await publishDirectory(dir, store, undefined, (l) => lines.push(l))).toBe(2);
    expect(written.size).toBe(0);
    expect(lines.join('\n')).toMatch(/FAILED {2}b\.json: .*\n.*FAILED {2}segments\.json: .*\nnothing published/);
  });

  it('checks the store too before writing: a version published with other bytes, or a change of kind, publishes nothing', async () => {
    const { publishDirectory } = await import('../../src/train/publish.ts');
    const { compileSource } = await import('../../src/train/model-source.ts');
    const { encodeShadingModel } = await import('../../src/core/bidding/shading-model.ts');
    const { publishModel } = await import('../../src/core/model-registry.ts');
    const { writeFile } = await import('node:fs/promises');
    const dir = await mkdtemp(join(tmpdir(), 'attune-models-'));
    const good = JSON.parse(await readFile('models/hero-headline.json', 'utf8'));
    await writeFile(join(dir, 'a.json'), JSON.stringify({ ...good, name: 'a-model', version: 'v1' }));
    await writeFile(join(dir, 'b.json'), JSON.stringify({ ...good, name: 'b-model', version: 'v1' }));
    const map = new Map<string, Uint8Array | string>();
    const storage = {
      getBytes: async (k: string) => {
        const v = map.get(k);
        return v instanceof Uint8Array ? v.slice().buffer : null;
      },
      getText: async (k: string) => {
        const v = map.get(k);
        return typeof v === 'string' ? v : null;
      },
      put: async (k: string, v: Uint8Array | string) => void map.set(k, v),
    };
    const store = { storage, putJson: async () => {}, close: async () => {} };
    // b-model@v1 is already published, from another source
    expect(await publishModel(storage, compileSource({ ...good, name: 'b-model', version: 'v1', bias: {} }, 'x').blob)).toMatchObject({
      ok: true,
    });
    const before = new Map(map);
    const lines: string[] = [];
    expect(await publishDirectory(dir, store, undefined, (l) => lines.push(l))).toBe(1);
    expect(lines.join('\n')).toMatch(/FAILED {2}b-model@v1: versionExists[\s\S]*nothing published/);
    expect(map).toEqual(before); // a-model was not published either

    map.clear();
    expect(await publishModel(storage, encodeShadingModel('a-model', 'old', new Map()))).toMatchObject({ ok: true });
    await writeFile(join(dir, 'b.json'), JSON.stringify({ ...good, name: 'b-model', version: 'v2' }));
    lines.length = 0;
    expect(await publishDirectory(dir, store, undefined, (l) => lines.push(l))).toBe(1);
    expect(lines.join('\n')).toMatch(/FAILED {2}a-model@v1: kindChanged \(the model is shading; this version is linear\)/);
    expect(await publishDirectory(dir, store, undefined, (l) => lines.push(l), { allowKindChange: true })).toBe(0);
  });

  it('recs:train refuses to build (and publish) a model from a log with nothing usable, with a message and exit 1', async () => {
    const { writeFile } = await import('node:fs/promises');
    const dir = await mkdtemp(join(tmpdir(), 'attune-recs-'));
    await writeFile(join(dir, 'bad.ndjson'), 'not json\n');
    const r = spawnSync(process.execPath, ['src/train/recs/train.ts', '--log', join(dir, 'bad.ndjson'), '--name', 'x-recs', '--out', dir], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^recs:train: no baskets to learn from/m);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it('recs:train prints its usage on --help, and refuses --eval without the retail CSV before training anything', async () => {
    const { writeFile, readdir } = await import('node:fs/promises');
    const help = spawnSync(process.execPath, ['src/train/recs/train.ts', '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--catalog file/);
    const dir = await mkdtemp(join(tmpdir(), 'attune-recs-'));
    const csv = join(dir, 'i.csv');
    await writeFile(csv, 'basket,item\nb1,a\nb1,b\n');
    const r = spawnSync(
      process.execPath,
      ['src/train/recs/train.ts', '--csv', csv, '--eval', '--name', 'x-recs', '--out', join(dir, 'out')],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--eval needs the retail --csv/);
    expect(await readdir(dir)).toEqual(['i.csv']); // nothing built or written
  });

  it('recs:train and recs:eval refuse numeric options that are not numbers or out of range, before reading anything', async () => {
    const { writeFile } = await import('node:fs/promises');
    const dir = await mkdtemp(join(tmpdir(), 'attune-recs-'));
    const csv = join(dir, 'i.csv');
    await writeFile(csv, 'visitor,item,ts\nv1,a,2026-01-01\nv1,b,2026-01-01\nv2,a,2026-01-02\nv2,b,2026-01-02\n');
    const recs = (script: string, args: string[]) =>
      spawnSync(process.execPath, [`src/train/recs/${script}`, '--csv', csv, ...args], { encoding: 'utf8', timeout: 60_000 });
    for (const [flag, value, message] of [
      ['--alpha', 'abc', /--alpha/],
      ['--shrink', '-1', /--shrink/],
      ['--min-count', '0', /--min-count/],
      ['--half-life', 'x', /--half-life/],
      ['--k', '0', /--k/],
    ] as const) {
      const r = recs('train.ts', ['--name', 'x-recs', '--out', dir, flag, value]);
      expect(r.status, `${flag} ${value}`).toBe(1);
      expect(r.stderr).toMatch(message);
    }
    const share = recs('evaluate.ts', ['--train-share', '1']);
    expect(share.status).toBe(1);
    expect(share.stderr).toMatch(/--train-share/);
  });
});
