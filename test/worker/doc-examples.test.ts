/**
 * Every example in README.md and docs/*.md runs as written against the Worker, seeded as
 * `npm start` seeds it (test/fixtures/doc-examples.ts), so the docs cannot rot:
 * - each `curl` in a ```sh block, `\`-continued lines joined, with the variables the docs set from
 *   .dev.vars (`KEY`, `ADMIN`) taken from this suite's secrets; it must answer below 400;
 * - a ```json block right after `<!-- doc-test: METHOD /path -->` is sent there as the body.
 * A block that cannot run here (it needs a deployed Worker, a real site, an account) is marked
 * `<!-- doc-test: skip: the reason -->` on the line before its fence; a `curl` to any host but
 * the local Worker in an unmarked block fails this suite, so a new example is run or says why not.
 */
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parseExchangeKeys } from '../../src/core/bidding/exchange-keys.ts';
import { publishModel } from '../../src/core/model-registry.ts';
import { ADMIN, fetchWorker, resetAll } from './helpers.ts';

interface Example {
  readonly where: string;
  readonly kind: 'curl' | 'json';
  readonly text: string;
  /** for json: "METHOD /path" */
  readonly target?: string;
}

const MARKER = /^<!--\s*doc-test:\s*(.*?)\s*-->$/;
const LOCAL = /^(?:https?:\/\/)?(?:localhost|127\.0\.0\.1):8787(\/.*)?$/;

/** The examples of one file, and the blocks marked skip (with their reason). */
function extractExamples(file: string, text: string): { examples: Example[]; skipped: string[]; problems: string[] } {
  const lines = text.split('\n');
  const examples: Example[] = [];
  const skipped: string[] = [];
  const problems: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const lang = open[1]!;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const marker = MARKER.exec((lines[start - 1] ?? '').trim())?.[1];
    const where = `${file}:${start + 1}`;
    if (marker?.startsWith('skip')) {
      if (!/^skip:\s*\S/.test(marker)) problems.push(`${where}: a skip marker says why ("skip: the reason")`);
      skipped.push(where);
      continue;
    }
    if (lang === 'json' && marker) {
      examples.push({ where, kind: 'json', text: body.join('\n'), target: marker });
      continue;
    }
    if (lang !== 'sh') continue;
    const joined = body.join('\n').replace(/\\\n\s*/g, '');
    for (const [n, line] of joined.split('\n').entries()) {
      // a body piped in from another tool (`-d @-`) depends on that tool and its input: not run here
      if (/\s-d @-(\s|$)/.test(line)) skipped.push(`${where} (line ${n + 1}): its body is piped in`);
      else if (/^\s*curl\s/.test(line)) examples.push({ where: `${where} (line ${n + 1})`, kind: 'curl', text: line.trim() });
    }
  }
  return { examples, skipped, problems };
}

/** Shell words: '…' literal, "…" with $VAR, bare words with $VAR; a trailing `# comment` dropped. */
function words(line: string, vars: Record<string, string>): string[] {
  const out: string[] = [];
  let cur: string | null = null;
  const expand = (s: string) =>
    s.replace(/\$(\w+)|\$\((.*)\)/g, (m, name: string | undefined, cmd: string | undefined) => {
      const v = name !== undefined ? vars[name] : vars[`$(${cmd})`];
      if (v === undefined) throw new Error(`cannot expand ${m}: teach test/worker/doc-examples.test.ts or mark the block skip`);
      return v;
    });
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (/\s/.test(ch)) {
      if (cur !== null) out.push(cur);
      cur = null;
    } else if (ch === '#' && cur === null) {
      break;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      cur = (cur ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      let s = '';
      let depth = 0;
      for (; j < line.length && (line[j] !== '"' || depth > 0); j++) {
        if (line[j] === '\\' && line[j + 1] === '"') s += line[++j];
        else {
          if (line.startsWith('$(', j)) depth++;
          else if (line[j] === ')' && depth > 0) depth--;
          s += line[j];
        }
      }
      cur = (cur ?? '') + expand(s);
      i = j;
    } else {
      let j = i;
      while (j < line.length && !/[\s'"]/.test(line[j]!)) j++;
      cur = (cur ?? '') + expand(line.slice(i, j));
      i = j - 1;
    }
  }
  if (cur !== null) out.push(cur);
  return out;
}

/** A curl command line as a Request to the local Worker. */
function curlRequest(line: string, vars: Record<string, string>): Request {
  const argv = words(line, vars);
  if (argv.includes('|')) throw new Error('pipes are not run; mark the block skip');
  let method: string | undefined;
  let url: string | undefined;
  let body: string | undefined;
  const headers = new Headers();
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-X' || a === '--request') method = argv[++i];
    else if (a === '-H' || a === '--header') {
      const h = argv[++i]!;
      const colon = h.indexOf(':');
      headers.append(h.slice(0, colon).trim(), h.slice(colon + 1).trim());
    } else if (a === '-d' || a === '--data' || a === '--data-raw' || a === '--data-binary') body = argv[++i];
    else if (/^-[sSiI]+$/.test(a)) {
      if (a.includes('I')) method ??= 'HEAD';
    } else if (a.startsWith('-')) throw new Error(`curl option ${a} is not understood here`);
    else url = a;
  }
  const local = url === undefined ? null : LOCAL.exec(url);
  if (!local) throw new Error(`${url} is not the local Worker (localhost:8787): mark the block skip with the reason`);
  if (body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded');
  return new Request(`http://localhost:8787${local[1] ?? '/'}`, { method: method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
}

const docs = inject('docs');
const all = Object.entries(docs)
  .filter(([file]) => file.endsWith('.md'))
  .map(([file, text]) => ({ file, ...extractExamples(file, text) }));

/** The docs' path-form bid URL (docs/bidding.md), which `npm run exchange:path` prints. */
const PATH_FORM = `$(npm run -s exchange:path | awk '$1=="demo"{print $2}')`;

/** What the docs read from .dev.vars, as this suite's bindings have it (the demo exchange: the first). */
function docVars(): Record<string, string> {
  const exchange = parseExchangeKeys(env.EXCHANGE_KEYS).entries[0]!;
  const key = env.EXCHANGE_KEYS.split(',')[0]!.split(':')[1]!.trim();
  return {
    KEY: key,
    ADMIN: env.ADMIN_TOKEN,
    ADMIN_TOKEN: env.ADMIN_TOKEN,
    [PATH_FORM]: `http://localhost:8787/openrtb2/bid/${exchange.exchange}/${exchange.pathToken}`,
  };
}

beforeAll(async () => {
  await resetAll();
  // what `npm start` seeds: models:publish of models/, then the demo's page rules
  const seed = inject('demoSeed');
  const storage = {
    getBytes: (key: string) => env.KV.get(key, 'arrayBuffer'),
    getText: (key: string) => env.KV.get(key, 'text'),
    put: (key: string, value: string | Uint8Array) => env.KV.put(key, value),
  };
  for (const m of seed.models) {
    const r = await publishModel(
      storage,
      Uint8Array.from(atob(m.blob), (c) => c.charCodeAt(0)),
    );
    expect(r.ok, m.name).toBe(true);
  }
  for (const [key, text] of Object.entries(seed.configs)) await env.KV.put(key, text);
});

describe('documented examples', () => {
  it('finds the examples: curl calls in README and the docs, and every skip says why', () => {
    const curls = all.flatMap((f) => f.examples).filter((e) => e.kind === 'curl');
    expect(curls.length).toBeGreaterThanOrEqual(8);
    expect(all.flatMap((f) => f.problems)).toEqual([]);
  });

  const examples = all.flatMap((f) => f.examples);
  it.each(examples.map((e) => [e.where, e] as const))('%s runs as written', async (_, e) => {
    const vars = docVars();
    let req: Request;
    if (e.kind === 'curl') {
      req = curlRequest(e.text, vars);
    } else {
      const [method, path] = e.target!.split(/\s+/);
      req = new Request(`http://localhost:8787${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(path!.startsWith('/admin/') ? ADMIN : {}) },
        body: e.text,
      });
    }
    const res = await fetchWorker(req.url.slice('http://localhost:8787'.length), {
      method: req.method,
      headers: req.headers,
      body: req.body === null ? undefined : await req.text(),
    });
    const text = await res.text();
    expect(res.status, `${e.text}\n→ ${res.status} ${text.slice(0, 500)}`).toBeLessThan(400);
    // an example names models and experiments that exist, rather than showing a fallback
    expect(text, e.text).not.toMatch(/"unknown(?:Model|Experiment)"/);
  });
});

describe('files the docs hand to the tools', () => {
  const creates = Object.entries(docs)
    .filter(([file]) => file.endsWith('.md'))
    .flatMap(([file, text]) => [...text.matchAll(/npm run experiments -- create (\S+)/g)].map((m) => [`${file}: ${m[1]}`, m[1]!] as const));
  it('the docs name at least one', () => expect(creates.length).toBeGreaterThan(0));
  it.each(creates)('%s exists and POST /admin/experiments takes it', async (_, path) => {
    expect(Object.keys(docs)).toContain(path);
    const res = await fetchWorker('/admin/experiments', {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: docs[path],
    });
    expect(res.status, await res.clone().text()).toBe(201);
    await fetchWorker(`/admin/experiments/${JSON.parse(docs[path]!).key}/archive`, { method: 'POST', headers: ADMIN });
  });
});

describe('the example runner', () => {
  it('refuses a curl to another host in an unmarked block, and skips a marked one', () => {
    const doc = [
      '```sh',
      'curl -s https://shop.example/',
      '```',
      '<!-- doc-test: skip: needs your site -->',
      '```sh',
      'curl -s https://shop.example/',
      '```',
    ].join('\n');
    const { examples, skipped } = extractExamples('x.md', doc);
    expect(skipped).toEqual(['x.md:5']);
    expect(() => curlRequest(examples[0]!.text, {})).toThrow(/not the local Worker/);
  });

  it('reads quoting, continuations, variables and methods as a shell would', () => {
    const doc = [
      '```sh',
      `curl -s -X PUT localhost:8787/a -H "authorization: Bearer $ADMIN" \\`,
      `  -d '{"x":"a b"}'   # note`,
      '```',
    ].join('\n');
    const [e] = extractExamples('x.md', doc).examples;
    const req = curlRequest(e!.text, { ADMIN: 't0k' });
    expect([req.method, req.url, req.headers.get('authorization')]).toEqual(['PUT', 'http://localhost:8787/a', 'Bearer t0k']);
  });
});
