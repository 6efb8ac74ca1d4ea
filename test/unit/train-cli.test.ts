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
  await writeSyntheticLog(log, { decisions: 30_000, seed: 21, start: Date.UTC(2026, 10, 1) });

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
  }, 120_000); // trains in a child process

  it('records the training window in the model, and evaluates after it by default', async () => {
    const { loadLinear } = await import('../../src/train/candidate-policy.ts');
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    const model = loadLinear(new Uint8Array(await readFile(join(dir, 'm.bin'))));
    // 30,000 decisions a second apart; the last 20 % of the time range is the holdout
    const start = Date.UTC(2026, 10, 1);
    expect(model.trainingWindow).toEqual({ from: start, to: start + 23_999_001 });
    expect(report.window).toEqual({ from: new Date(start).toISOString(), to: new Date(start + 23_999_001).toISOString() });
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
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const ope = JSON.parse(await readFile(join(dir, 'ope.json'), 'utf8'));
    expect(ope.window).toMatchObject({ from: new Date(start + 23_999_001).toISOString(), to: null, source: 'model' });
    expect(ope.n).toBe(6_000);
    expect(ope.outside).toBe(24_000);
    for (const k of ['ips', 'snips', 'dr', 'dm']) {
      expect(ope.estimates[k].low).toBeLessThanOrEqual(ope.estimates[k].value);
      expect(ope.estimates[k].high).toBeGreaterThanOrEqual(ope.estimates[k].value);
    }
    expect(ope.ess).toBeGreaterThan(1_000);
    expect(ope.maxWeight).toBeCloseTo(0.9333 / (1 / 3), 3);
    expect(ope.warnings).toEqual([]);
    // the learned greedy policy beats the uniform one that logged the data
    expect(ope.estimates.dr.value).toBeGreaterThan(ope.logging.value);
    expect(r.stdout).toMatch(/window {4}2026-11-01T06:39:59\.001Z to end of the log \(after the model's training window\)/);
    expect(r.stdout).toMatch(/effective sample size [\d.]+ of 6000/);

    // in-sample on request, and it says so
    const all = run('evaluate.ts', [
      '--log',
      log,
      '--model',
      join(dir, 'm.bin'),
      '--all',
      '--replicates',
      '100',
      '--json',
      join(dir, 'all.json'),
    ]);
    expect(all.status).toBe(0);
    const inSample = JSON.parse(await readFile(join(dir, 'all.json'), 'utf8'));
    expect(inSample.n).toBe(30_000);
    expect(inSample.warnings.join('\n')).toMatch(/overlaps the model's training window .*in-sample/);
    expect(all.stdout).toMatch(/warning {3}the window overlaps/);
  }, 60_000);

  it('evaluates a model without a recorded window on every decision, and says so; its gate refuses', async () => {
    const { compileLinear } = await import('../../src/train/model-source.ts');
    const { writeFile } = await import('node:fs/promises');
    const old = compileLinear({
      kind: 'linear',
      name: 'old-hero',
      version: 'v0',
      variants: ['control', 'bold', 'minimal'],
      bits: 8,
      bias: { bold: 0.1 },
      weights: {},
    });
    await writeFile(join(dir, 'old.bin'), old.blob);
    const r = run('evaluate.ts', [
      '--log',
      log,
      '--model',
      join(dir, 'old.bin'),
      '--replicates',
      '100',
      '--publish',
      '--gate',
      '--persist',
      join(dir, 'state'),
    ]);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/30000 logged decisions in the window/);
    expect(r.stdout).toMatch(/warning {3}the model records no training window/);
    expect(r.stderr).toMatch(/^not published: the model records no training window/);
  }, 60_000);

  it("evaluate's gate refuses when the effective sample size is too small, saying so", () => {
    const start = Date.UTC(2026, 10, 1);
    const r = run('evaluate.ts', [
      '--log',
      log,
      '--model',
      join(dir, 'm.bin'),
      '--from',
      new Date(start + 29_900_000).toISOString(),
      '--replicates',
      '100',
      '--publish',
      '--gate',
      '--persist',
      join(dir, 'state'),
    ]);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/100 logged decisions in the window/);
    expect(r.stdout).toMatch(/warning {3}effective sample size [\d.]+ is below 100/);
    expect(r.stderr).toMatch(/^not published: effective sample size [\d.]+ is below 100/);
  }, 60_000);

  it("train's gate judges the policy out of sample and refuses a holdout with too small an effective sample size", () => {
    const start = Date.UTC(2026, 10, 1);
    const r = run('train.ts', [
      '--log',
      log,
      '--name',
      'cli-small',
      '--bits',
      '14',
      '--holdout-from',
      new Date(start + 29_900_000).toISOString(),
      '--out',
      join(dir, 'small.bin'),
      '--publish',
      '--gate',
      '--persist',
      join(dir, 'state'),
      '--quiet',
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^not published: effective sample size [\d.]+ is below 100/);
    expect(r.stdout).not.toMatch(/published cli-small/);
  }, 120_000);

  it('prints usage on --help and -h, and one line plus usage (exit 2) for a bad option, never a stack trace', () => {
    for (const script of ['train.ts', 'evaluate.ts'])
      for (const flag of ['--help', '-h']) {
        const r = run(script, [flag]);
        expect(r.status, `${script} ${flag}`).toBe(0);
        expect(r.stdout).toMatch(/^Usage: npm run (train|evaluate) -- /);
        expect(r.stdout).toMatch(/\n {2}--log DIR\|FILE/);
      }
    const cases: [string, string[], RegExp][] = [
      ['evaluate.ts', ['--bogus'], /^evaluate: unknown option --bogus\n\nUsage:/],
      ['evaluate.ts', ['--log'], /^evaluate: --log needs a value\n/],
      ['evaluate.ts', ['--log', log], /^evaluate: name the candidate: --model FILE or --policy-table FILE\n/],
      [
        'evaluate.ts',
        ['--log', log, '--model', 'm.bin', '--replicates', 'many'],
        /^evaluate: --replicates must be an integer from 100 to 100000; got "many"\n/,
      ],
      ['evaluate.ts', ['--log', log, '--model', 'm.bin', '--from', 'yesterday'], /^evaluate: --from must be an ISO 8601 date/],
      ['evaluate.ts', ['--log', log, '--model', 'm.bin', '--window', '5 minutes'], /^evaluate: --window: bad duration/],
      ['train.ts', ['--frobnicate'], /^train: unknown option --frobnicate\n\nUsage:/],
      ['train.ts', ['--name', 'x'], /^train: name the log: --log/],
      ['train.ts', ['--log', log, '--name', 'x', '--bits', 'abc'], /^train: --bits must be an integer from 1 to 24; got "abc"/],
      ['train.ts', ['--log', log, '--name', 'x', '--holdout', '2'], /^train: --holdout must be a number from 0 to 1; got "2"/],
      ['train.ts', ['--log', log], /^train: --name is required/],
      ['train.ts', ['--log', log, '--name', 'x', '--quantize', 'int4'], /^train: --quantize must be one of int8, float32; got "int4"/],
      ['train.ts', ['--log', log, '--name', 'x', '--policy', '{nope'], /^train: --policy is not valid JSON/],
    ];
    for (const [script, args, message] of cases) {
      const r = run(script, args);
      expect(r.status, `${script} ${args.join(' ')}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/\nUsage: npm run /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
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
  }, 30_000); // reads the 30k-decision log twice

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
  }, 60_000); // a child process
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
  }, 30_000);

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
  }, 60_000); // a child process

  it('recs:train prints its usage on --help, and refuses --eval without the retail CSV before training anything', async () => {
    const { writeFile, readdir } = await import('node:fs/promises');
    const help = spawnSync(process.execPath, ['src/train/recs/train.ts', '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--catalog FILE/);
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
  }, 60_000); // two child processes

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
      ['--min-count', '-1', /--min-count/],
      ['--basket-weight', 'half', /--basket-weight/],
      ['--half-life', 'x', /--half-life/],
      ['--k', '0', /--k/],
    ] as const) {
      const r = recs('train.ts', ['--name', 'x-recs', '--out', dir, flag, value]);
      expect(r.status, `${flag} ${value}`).toBe(2); // a bad command line
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/\n\nUsage: npm run recs:train/);
    }
    for (const [flag, value] of [
      ['--test-days', '1.5'],
      ['--holdout-customers', '1'],
      ['--alpha', 'abc'],
    ] as const) {
      const r = recs('evaluate.ts', [flag, value]);
      expect(r.status, `${flag} ${value}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^recs:eval: ${flag}`));
    }
  }, 120_000); // child processes
});
