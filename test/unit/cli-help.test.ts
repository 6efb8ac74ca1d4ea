// Every command-line tool as a user runs it: `--help` prints its usage (exit 0), and a bad
// option gets one line saying what is wrong, then the usage (exit 2), never a stack trace. Each
// npm script is either here or listed with the reason it is not, so a new tool cannot be missed.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** A tool: its file, its name in error lines, and a bad command line besides an unknown option. */
const TOOLS: Record<string, { file: string; name: string; bad?: string[]; message?: RegExp }> = {
  'models:publish': { file: 'src/train/publish.ts', name: 'models:publish' },
  train: {
    file: 'src/train/train.ts',
    name: 'train',
    bad: ['--log', 'x', '--name', 'm', '--gate-on', 'dm'],
    message: /^train: --gate-on must be one of dr, snips, ips; got "dm"$/,
  },
  evaluate: {
    file: 'src/train/evaluate.ts',
    name: 'evaluate',
    bad: ['--log', 'x', '--model', 'm.bin', '--target', 'revenue'],
    message: /^evaluate: --target must be one of label, value; got "revenue"$/,
  },
  'recs:train': {
    file: 'src/train/recs/train.ts',
    name: 'recs:train',
    bad: ['--csv', 'x.csv', '--norm', 'dot'],
    message: /^recs:train: --norm must be one of cosine, lift, jaccard; got "dot"$/,
  },
  'recs:eval': {
    file: 'src/train/recs/evaluate.ts',
    name: 'recs:eval',
    bad: ['--holdout-customers', '1'],
    message: /^recs:eval: --holdout-customers must be a share in \[0, 1\); got "1"$/,
  },
  'bench:recs-weights': {
    file: 'bench/quality/recs-basket-weight.ts',
    name: 'bench:recs-weights',
    bad: ['--basket-weight', 'log'],
    message: /^bench:recs-weights: unknown option --basket-weight$/,
  },
  'import:obd': { file: 'src/train/import-obd.ts', name: 'import:obd', bad: ['--in', 'x'], message: /^import:obd: --out is required/ },
  'log:synth': {
    file: 'src/train/synthetic-log.ts',
    name: 'log:synth',
    bad: ['--out', 'x', '--decisions', 'lots'],
    message: /^log:synth: --decisions must be an integer ≥ 1; got "lots"$/,
  },
  experiments: {
    file: 'src/train/experiments-cli.ts',
    name: 'experiments',
    bad: ['launch', '--token', 'x'],
    message: /^experiments: launch needs an experiment key$/,
  },
  'demo:clicks': {
    file: 'scripts/demo-clicks.ts',
    name: 'demo:clicks',
    bad: ['--seconds', '0'],
    message: /^demo:clicks: --seconds must be a number from 0\.1 to 600; got "0"$/,
  },
  'exchange:path': {
    file: 'scripts/exchange-path.ts',
    name: 'exchange:path',
    bad: ['--url', 'ftp://x'],
    message: /must be an http or https URL/,
  },
  deploy: {
    file: 'scripts/deploy.ts',
    name: 'deploy',
    bad: ['--dry-run', '--site-origin', '*'],
    message: /^deploy: --site-origin: name the site/,
  },
  'campaigns:conversions': {
    file: 'src/train/campaign-conversions.ts',
    name: 'campaigns:conversions',
    bad: ['--r2-local', '--days', '40'],
    message: /^campaigns:conversions: --days must be an integer from 1 to 31; got "40"$/,
  },
  'sites:migrate': {
    file: 'scripts/sites-migrate.ts',
    name: 'sites:migrate',
    bad: ['--site', 'Shop!', '--host', 'shop.example'],
    message: /^sites:migrate: --site: lower-case letters/,
  },
  'bench:first': {
    file: 'bench/http/first-request.bench.ts',
    name: 'bench:first',
    bad: ['--runs', '0'],
    message: /--runs must be an integer ≥ 1/,
  },
  'bench:http': {
    file: 'bench/http/decide.bench.ts',
    name: 'bench:http',
    bad: ['--rounds', '0'],
    message: /--rounds must be an integer ≥ 1/,
  },
  'bench:startup': {
    file: 'bench/startup/startup.bench.ts',
    name: 'bench:startup',
    bad: ['--runs', 'x'],
    message: /--runs must be an integer ≥ 1; got "x"/,
  },
  'bench:proxy-cpu': {
    file: 'bench/http/proxy-cpu.bench.ts',
    name: 'bench:proxy-cpu',
    bad: ['--mb', '0'],
    message: /--mb must be a number ≥ 0.001/,
  },
  'bench:train': { file: 'bench/train/train.bench.ts', name: 'bench:train', bad: ['--runs', 'x'], message: /--runs must be an integer/ },
  'bench:experiments-http': {
    file: 'bench/http/experiment-decide.bench.ts',
    name: 'bench:experiments-http',
    bad: ['--seconds', '0'],
    message: /--seconds must be a number ≥ 1/,
  },
  'fit-shading (node src/train/fit-shading.ts)': {
    file: 'src/train/fit-shading.ts',
    name: 'fit-shading',
    bad: ['--min-pub', '5'],
    message: /^fit-shading: name the log/,
  },
  insights: {
    file: 'src/train/insights.ts',
    name: 'insights',
    bad: ['--log', 'x', '--json', 'f.json', '--fdr', '0.9'],
    message: /^insights: --fdr must be a number from 0.0001 to 0.5; got "0.9"$/,
  },
  'bench:insights': {
    file: 'bench/insights/insights.bench.ts',
    name: 'bench:insights',
    bad: ['--decisions', '10'],
    message: /--decisions must be an integer ≥ 10000/,
  },
  'log:compact': {
    file: 'src/train/log-compact.ts',
    name: 'log:compact',
    bad: ['--log', 'x', '--out', 'y', '--from', 'soon'],
    message: /^log:compact: --from must be an ISO 8601 date/,
  },
  'put-config (node scripts/put-config.ts)': {
    file: 'scripts/put-config.ts',
    name: 'put-config',
    bad: ['config/x'],
    message: /^put-config: missing KEY and FILE$/,
  },
};

/** npm scripts that are not in TOOLS, and why. */
const NOT_TOOLS: Record<string, string> = {
  start: 'its arguments go to wrangler dev; --help is tested below',
  test: 'arguments go to vitest',
  'test:unit': 'vitest',
  'test:worker': 'vitest',
  'test:browser': 'vitest',
  typecheck: 'tsc, no arguments',
  types: 'wrangler types',
  lint: 'biome',
  format: 'biome',
  // benchmarks and builds that take no arguments
  bench: 'runs the benches in turn, no arguments',
  'bench:micro': 'no arguments',
  'bundle:size': 'no arguments',
  'bench:cold': 'no arguments',
  openapi: 'no arguments',
  'bench:recs': 'no arguments',
  'snippet:build': 'no arguments',
  'bench:proxy': 'no arguments',
  'bench:proxy-profile': 'no arguments (environment variables, as bench:proxy)',
  'bench:decide-profile': 'no arguments (environment variables, as bench:proxy-profile)',
  'bench:bandits': 'runs three benches in turn, no arguments',
  'bench:experiment-stats': 'runs two benches in turn (each takes an optional run count when run alone)',
  'bench:recs:http': 'no arguments',
  'bench:bidder': 'no arguments',
  'bench:market': 'no arguments',
  'bench:bid-http': 'no arguments',
  'build:wasm': 'no arguments',
};

function run(file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // process.execPath: the Node 24 that runs the npm scripts (vitest runs on it, npx or npm test)
    const child = spawn(process.execPath, [file, ...args], { env: { ...process.env, WRANGLER_SEND_METRICS: 'false', ATTUNE_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const STACK = /^\s+at /m;

describe('every CLI', () => {
  it('runs on a Node that runs TypeScript as is', () => {
    const [major, minor] = process.versions.node.split('.').map(Number);
    expect(major! > 22 || (major === 22 && minor! >= 18), `node ${process.version}`).toBe(true);
  });

  it('is classified: every npm script is a tested tool or has a reason not to be', () => {
    const scripts = Object.keys(JSON.parse(readFileSync('package.json', 'utf8')).scripts as Record<string, string>);
    const unclassified = scripts.filter((s) => !(s in TOOLS) && !(s in NOT_TOOLS));
    expect(unclassified).toEqual([]);
  });

  for (const [label, t] of Object.entries(TOOLS)) {
    describe(label, () => {
      it('prints its usage on --help and -h, exit 0', async () => {
        for (const flag of ['--help', '-h']) {
          const r = await run(t.file, [flag]);
          expect(r.stderr).toBe('');
          expect(r.code).toBe(0);
          expect(r.stdout).toMatch(/^Usage: \S/);
          expect(r.stdout).toMatch(/^Options:\n( {2}-.*\n)+/m); // each option on its line, with its description
          expect(r.stdout).toMatch(/^ {2}-h, --help +show this help$/m);
        }
      }, 60_000);

      it('refuses a bad option with one line and the usage, exit 2, no stack trace', async () => {
        const cases: [string[], RegExp][] = [[['--no-such-option'], new RegExp(`^${t.name}: unknown option --no-such-option$`)]];
        if (t.bad) cases.push([t.bad, t.message!]);
        for (const [args, message] of cases) {
          const r = await run(t.file, args);
          expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
          const [first, blank, usage] = r.stderr.split('\n');
          expect(first).toMatch(message);
          expect(blank).toBe('');
          expect(usage).toMatch(/^Usage: /);
          expect(r.stderr).not.toMatch(STACK);
          expect(r.stdout).toBe('');
        }
      }, 60_000);
    });
  }

  it('npm start prints its usage on --help (the environment it reads) without starting anything', async () => {
    const r = await run('scripts/start.mjs', ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: npm start/);
    expect(r.stdout).toMatch(/^ {2}PORT +/m);
  }, 60_000);
});
