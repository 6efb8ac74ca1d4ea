// The CLI helper every tool is built on (src/train/cli.ts), the URL the Worker-facing tools
// call (worker-url.ts) and the progress line of long jobs (progress.ts).
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CliError, type CliSpec, dateOption, jsonOption, parseCli, runCli, UsageError, usageText } from '../../src/train/cli.ts';
import { eta, progressBar, records } from '../../src/train/progress.ts';
import { defaultWorkerUrl, fetchWorker, workerUrl } from '../../src/train/worker-url.ts';

const SPEC = {
  name: 'demo',
  usage: 'npm run demo -- --in FILE [options]',
  summary: 'A tool for these tests.',
  positionals: { max: 1, name: 'NAME' },
  options: {
    in: { type: 'string', arg: 'FILE', required: true, help: 'what to read' },
    k: { type: 'integer', min: 1, max: 100, default: 10, help: 'how many' },
    rate: { type: 'number', min: 0, help: 'a share' },
    norm: { type: 'string', choices: ['cosine', 'lift'], default: 'cosine', help: 'how to normalize' },
    tag: { type: 'string', multiple: true, help: 'a tag' },
    quiet: { type: 'boolean', short: 'q', help: 'say less' },
  },
} as const satisfies CliSpec;

async function cli(argv: string[], main: Parameters<typeof runCli<typeof SPEC.options>>[1] = () => 0, env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(SPEC, main, argv, { out: (t) => out.push(t), err: (t) => err.push(t), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('parsing a command line', () => {
  it('types the values: numbers converted, defaults applied, booleans false when absent, repeatable options as lists', () => {
    const { values, positionals } = parseCli(SPEC, ['--in', 'a.csv', '--k', '25', '--rate=0.5', '--tag', 'x', '--tag', 'y', 'name']);
    expect(values).toEqual({ in: 'a.csv', k: 25, rate: 0.5, norm: 'cosine', tag: ['x', 'y'], quiet: false });
    expect(positionals).toEqual(['name']);
  });

  it.each([
    [['--in', 'a', '--bogus'], 'unknown option --bogus'],
    [['--in'], '--in needs a value'],
    [['--in', 'a', '--k', '--quiet'], '--k needs a value (to give one that starts with -, write --k=VALUE)'],
    [['--in', 'a', '--quiet=yes'], '--quiet takes no value'],
    [[], '--in is required (what to read)'],
    [['--in', 'a', '--k', 'ten'], '--k must be an integer from 1 to 100; got "ten"'],
    [['--in', 'a', '--k', '1.5'], '--k must be an integer from 1 to 100; got "1.5"'],
    [['--in', 'a', '--k', '0'], '--k must be an integer from 1 to 100; got "0"'],
    [['--in', 'a', '--rate', ''], '--rate must be a number ≥ 0; got ""'],
    [['--in', 'a', '--norm', 'dot'], '--norm must be one of cosine, lift; got "dot"'],
    [['--in', 'a', 'x', 'y'], 'unexpected argument y'],
  ])('%j: %s', (argv, message) => {
    expect(() => parseCli(SPEC, argv)).toThrow(new UsageError(message));
  });

  it('reads dates (ISO 8601 or epoch ms) and JSON for the options that take them, naming the option when they are not', () => {
    expect(dateOption(undefined, 'from')).toBeUndefined();
    expect(dateOption('2026-11-01T00:00:00Z', 'from')).toBe(Date.UTC(2026, 10, 1));
    expect(dateOption('1790000000000', 'from')).toBe(1_790_000_000_000);
    expect(() => dateOption('yesterday', 'from')).toThrow(
      new UsageError('--from must be an ISO 8601 date (2026-11-01T00:00:00Z) or epoch ms, got "yesterday"'),
    );
    expect(jsonOption('{"type":"greedy"}', 'policy')).toEqual({ type: 'greedy' });
    expect(() => jsonOption('{nope', 'policy')).toThrow(new UsageError('--policy is not valid JSON: {nope'));
  });

  it('writes the usage from the definitions: every option with its placeholder, description, default and limits', () => {
    const text = usageText(SPEC);
    expect(text.split('\n')[0]).toBe('Usage: npm run demo -- --in FILE [options]');
    expect(text).toMatch(/^ {2}--in FILE +what to read \(required\)$/m);
    expect(text).toMatch(/^ {2}--k N +how many \(default 10\)$/m);
    expect(text).toMatch(/^ {2}--norm VALUE +how to normalize \(one of cosine, lift; default cosine\)$/m);
    expect(text).toMatch(/^ {2}--tag VALUE +a tag \(repeatable\)$/m);
    expect(text).toMatch(/^ {2}-q, --quiet +say less$/m);
    expect(text).toMatch(/^ {2}-h, --help +show this help$/m);
  });
});

describe('running a tool', () => {
  it('prints the usage on --help or -h, exit 0, even next to a bad option, without running the tool', async () => {
    let ran = false;
    for (const argv of [['--help'], ['-h'], ['--bogus', '--help']]) {
      const r = await cli(argv, () => {
        ran = true;
      });
      expect(r.code).toBe(0);
      expect(r.out).toBe(usageText(SPEC));
      expect(r.err).toBe('');
    }
    expect(ran).toBe(false);
  });

  it('answers a bad command line with one line saying what is wrong, then the usage, exit 2', async () => {
    const r = await cli(['--in', 'a', '--k', 'x']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`demo: --k must be an integer from 1 to 100; got "x"\n\n${usageText(SPEC)}`);
  });

  it("turns a user's mistake into one line, exit 1: a CliError, a missing file, bad JSON", async () => {
    expect(await cli(['--in', 'a'], () => Promise.reject(new CliError('the log holds no decisions')))).toEqual({
      code: 1,
      out: '',
      err: 'demo: the log holds no decisions',
    });
    const { readFile } = await import('node:fs/promises');
    const missing = await cli(['--in', '/no/such.csv'], async ({ values }) => void (await readFile(values.in)));
    expect(missing).toEqual({ code: 1, out: '', err: 'demo: cannot read /no/such.csv: no such file or directory' });
    const json = await cli(['--in', 'a'], () => JSON.parse('{oops'));
    expect(json.code).toBe(1);
    expect(json.err).toMatch(/^demo: .*JSON.*$/);
    expect(json.err.split('\n')).toHaveLength(1);
  });

  it('never shows a stack trace unless ATTUNE_DEBUG=1 asks for it', async () => {
    const bug = () => {
      throw new TypeError('x is not a function');
    };
    const quiet = await cli(['--in', 'a'], bug);
    expect(quiet).toEqual({ code: 1, out: '', err: 'demo: x is not a function (unexpected; ATTUNE_DEBUG=1 shows where)' });
    const debug = await cli(['--in', 'a'], bug, { ATTUNE_DEBUG: '1' });
    expect(debug.err).toMatch(/^TypeError: x is not a function\n\s+at /);
  });

  it("returns the tool's exit code", async () => {
    expect((await cli(['--in', 'a'], () => 3)).code).toBe(3);
    expect((await cli(['--in', 'a'], async () => {})).code).toBe(0);
    // a CliError may carry its own (recs: a named file that is not there is exit 2), still one line
    expect(await cli(['--in', 'a'], () => Promise.reject(new CliError('no such file: a', 2)))).toEqual({
      code: 2,
      out: '',
      err: 'demo: no such file: a',
    });
  });
});

describe('the Worker URL', () => {
  it('is --url, else ATTUNE_URL, else loopback on PORT (8787 by default)', () => {
    expect(defaultWorkerUrl({})).toBe('http://127.0.0.1:8787');
    expect(workerUrl(undefined, { PORT: '9000' })).toBe('http://127.0.0.1:9000');
    expect(workerUrl(undefined, { PORT: '9000', ATTUNE_URL: 'https://edge.shop.example/' })).toBe('https://edge.shop.example');
    expect(workerUrl('http://10.0.0.1:8787', { ATTUNE_URL: 'https://x.example' })).toBe('http://10.0.0.1:8787');
    expect(() => workerUrl('localhost:8787', {})).toThrow(/--url: "localhost:8787" must be an http or https URL/);
    expect(() => workerUrl(undefined, { ATTUNE_URL: 'nope' })).toThrow(/ATTUNE_URL: "nope" is not a URL/);
  });

  it('names the URL it could not reach and what to do, instead of "fetch failed"', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const base = `http://127.0.0.1:${port}`;
    await expect(fetchWorker(base, '/admin/experiments')).rejects.toThrow(
      new CliError(
        `cannot reach the Worker at ${base} (ECONNREFUSED): is \`npm start\` running there? For another address pass --url or set ATTUNE_URL.`,
      ),
    );
  });
});

describe('progress of long jobs', () => {
  it('draws records, rate and time left on a terminal', () => {
    const written: string[] = [];
    let now = 0;
    const bar = progressBar('import', { isTTY: true, write: (t: string) => written.push(t) }, () => now);
    now = 4000;
    bar.update(0.25, records(50_000, 0, 4000));
    expect(written.at(-1)).toContain('25% 50,000 records, 12,500/s, ETA 12 s');
    now = 4050;
    bar.update(0.3, 'x'); // within 100 ms of the last draw: skipped
    expect(written).toHaveLength(1);
    bar.done();
    expect(written.at(-1)).toBe('\r\x1b[K');
  });

  it('writes nothing when stderr is not a terminal (CI, pipes)', () => {
    const written: string[] = [];
    const bar = progressBar('import', { isTTY: false, write: (t: string) => written.push(t) });
    bar.update(0.5, 'half');
    bar.done();
    expect(written).toEqual([]);
  });

  it('estimates the time left only once there is a pace to go by', () => {
    expect(eta(0.005, 60_000)).toBe('');
    expect(eta(0.5, 500)).toBe('');
    expect(eta(0.5, 90_000)).toBe('ETA 1 min 30 s');
    expect(eta(0.1, 3_600_000)).toBe('ETA 9 h 00 min');
  });
});

describe('npm run experiments against the wrong server', () => {
  it('says the address did not answer like attune, in one line, exit 1', async () => {
    const { createServer: http } = await import('node:http');
    const { runCli: experiments } = await import('../../src/train/experiments-cli.ts');
    const server = http((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>a blog</p>'));
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const err: string[] = [];
    try {
      const code = await experiments(['list', '--url', url, '--token', 't'], { out: () => {}, err: (l) => err.push(l) });
      expect(code).toBe(1);
      expect(err).toEqual([`experiments: ${url} did not answer with JSON: is it an attune Worker? ("<!doctype html><p>a blog</p>"…)`]);
    } finally {
      server.close();
    }
  });
});
