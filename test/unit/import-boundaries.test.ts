/**
 * The house's boundaries, as a test: every import of src/ and snippets/ (static `import … from`,
 * `export … from`, `import type`, dynamic `import()` and `import('…')` types) against the arrows
 * src/boundaries.json allows. The core stays pure (no worker, trainer, Node, platform module or
 * platform global), the Worker and the trainers only meet in the core, the snippet imports
 * nothing, a route module is mounted by app.ts alone, and no import circle exists.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import rules from '../../src/boundaries.json' with { type: 'json' };

const ROOT = join(import.meta.dirname, '../..');

interface Import {
  readonly from: string;
  /** the specifier as written */
  readonly spec: string;
  /** a repo-relative path for relative specifiers, else null */
  readonly to: string | null;
  readonly typeOnly: boolean;
}

/** Every import of one source text (`file` is repo-relative). */
function importsOf(file: string, text: string): Import[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ESNext, true);
  const out: Import[] = [];
  const add = (spec: string, typeOnly: boolean) =>
    out.push({ from: file, spec, to: spec.startsWith('.') ? normalize(join(dirname(file), spec)) : null, typeOnly });
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      const c = n.importClause;
      const typeOnly =
        c !== undefined &&
        (c.isTypeOnly ||
          (c.name === undefined &&
            c.namedBindings !== undefined &&
            ts.isNamedImports(c.namedBindings) &&
            c.namedBindings.elements.length > 0 &&
            c.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(n.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier !== undefined && ts.isStringLiteral(n.moduleSpecifier)) {
      add(n.moduleSpecifier.text, n.isTypeOnly);
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = n.arguments[0];
      add(arg !== undefined && ts.isStringLiteralLike(arg) ? arg.text : '(computed)', false);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      add(n.argument.literal.text, true);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const GLOBALS = new Set([
  'fetch',
  'crypto',
  'Request',
  'Response',
  'Headers',
  'URL',
  'URLSearchParams',
  'TextEncoder',
  'TextDecoder',
  'atob',
  'btoa',
  'setTimeout',
  'setInterval',
  'clearTimeout',
  'clearInterval',
  'queueMicrotask',
  'structuredClone',
  'performance',
  'console',
  'process',
  'Buffer',
  'require',
  'globalThis',
  'self',
  'window',
  'document',
  'navigator',
  'caches',
  'WebAssembly',
  'HTMLRewriter',
  'Blob',
  'FormData',
  'ReadableStream',
  'WritableStream',
  'CompressionStream',
  'DecompressionStream',
  'AbortController',
  'WebSocket',
]);

/** Platform globals a source text reads (identifiers in expression position that nothing in the file declares). */
function platformGlobalsOf(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ESNext, true);
  const declared = new Set<string>();
  const used = new Set<string>();
  const visit = (n: ts.Node): void => {
    if (
      (ts.isVariableDeclaration(n) || ts.isFunctionDeclaration(n) || ts.isParameter(n) || ts.isClassDeclaration(n)) &&
      n.name &&
      ts.isIdentifier(n.name)
    )
      declared.add(n.name.text);
    if (ts.isImportSpecifier(n) || ts.isImportClause(n) || ts.isNamespaceImport(n)) if (n.name) declared.add(n.name.text);
    if (ts.isIdentifier(n) && GLOBALS.has(n.text)) {
      const p = n.parent;
      const isName =
        (ts.isPropertyAccessExpression(p) && p.name === n) ||
        (ts.isPropertyAssignment(p) && p.name === n) ||
        ((ts.isPropertySignature(p) || ts.isPropertyDeclaration(p) || ts.isMethodDeclaration(p) || ts.isMethodSignature(p)) &&
          p.name === n) ||
        ts.isTypeReferenceNode(p) ||
        (ts.isQualifiedName(p) && p.right === n);
      if (!isName) used.add(n.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return [...used].filter((g) => !declared.has(g));
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(join(ROOT, p)).isDirectory()) return sources(p);
    return /\.(ts|mts|js|mjs)$/.test(f) && !f.endsWith('.d.ts') && !f.endsWith('.min.js') ? [p] : [];
  });
}

const zoneOf = (file: string): string | null => Object.entries(rules.zones).find(([, prefix]) => file.startsWith(prefix))?.[0] ?? null;
const packageOf = (spec: string): string =>
  spec.startsWith('node:') ? 'node:*' : spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
const isRouteModule = (file: string): boolean => file.endsWith(rules.routeModules.suffix);

/** What breaks the rules, one line per import (empty: none). */
function violations(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const graph = new Map<string, string[]>();
  for (const [file, text] of files) {
    const zone = zoneOf(file);
    if (zone === null) continue;
    const allowed = rules.allowed[zone as keyof typeof rules.allowed];
    const edges: string[] = [];
    for (const imp of importsOf(file, text)) {
      if (imp.to === null) {
        const pkg = packageOf(imp.spec);
        const ok = allowed.includes(pkg) || (imp.typeOnly && allowed.includes(`type:${pkg}`));
        if (!ok) problems.push(`${file}: ${zone} may not import ${imp.typeOnly ? 'the types of ' : ''}"${imp.spec}"`);
        continue;
      }
      const target = imp.to;
      const toZone = zoneOf(target);
      if (toZone === null || !allowed.includes(toZone))
        problems.push(`${file}: ${zone} may not import ${target} (${toZone ?? 'outside every zone'})`);
      if (isRouteModule(target) && file !== rules.routeModules.mountedBy)
        problems.push(`${file}: imports the route module ${target}, which only ${rules.routeModules.mountedBy} mounts`);
      edges.push(target);
    }
    graph.set(file, edges);
    if (/\bnew Hono\b/.test(text) && zone === 'worker' && !isRouteModule(file) && file !== rules.routeModules.mountedBy)
      problems.push(`${file}: builds a Hono app, so it is a route module and must be named *${rules.routeModules.suffix}`);
    if (rules.platformGlobalsForbiddenIn.includes(zone))
      for (const g of platformGlobalsOf(file, text)) problems.push(`${file}: ${zone} may not use the platform global ${g}`);
  }
  for (const cycle of circles(graph)) problems.push(`import circle: ${cycle.join(' → ')}`);
  return problems;
}

/** The import circles of `graph` (Tarjan's strongly connected components of more than one file, or a file importing itself). */
function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.reverse());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return out;
}

const tree = new Map([...sources('src'), ...sources('snippets')].map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]));

describe('import boundaries (src/boundaries.json)', () => {
  it('hold for every import of src/ and snippets/', () => {
    expect(tree.size).toBeGreaterThan(150);
    expect(violations(tree)).toEqual([]);
  }, 30_000); // parses every file of src/ and snippets/ with the TypeScript parser

  it('catch each kind of forbidden arrow', () => {
    const bad = new Map([
      [
        'src/core/a.ts',
        "import { app } from '../worker/app.ts';\nimport { x } from '../train/fit.ts';\nimport { readFile } from 'node:fs';",
      ],
      [
        'src/core/b.ts',
        "import type { Env } from 'cloudflare:workers';\nexport const id = () => crypto.randomUUID();\nexport const t: Request | null = null;",
      ],
      [
        'src/core/c.ts',
        "export const load = () => import('../worker/x.ts');\nimport { BidRequest } from 'iab-openrtb/v26';\nimport { z } from 'zod';",
      ],
      ['src/worker/w.ts', "import { fit } from '../train/fit.ts';"],
      ['src/train/t.ts', "export type { AppEnv } from '../worker/shared/types.ts';"],
      ['snippets/s.ts', "import { murmur3 } from '../src/core/murmur3.ts';"],
      ['src/worker/a/one-routes.ts', "import { two } from '../b/two-routes.ts';"],
      ['src/worker/b/two-routes.ts', "import { Hono } from 'hono';\nexport const two = new Hono();"],
      ['src/worker/b/sneaky.ts', "import { Hono } from 'hono';\nexport const app2 = new Hono();"],
      ['src/worker/x/p.ts', "import { q } from './q.ts';"],
      ['src/worker/x/q.ts', "import { p } from './p.ts';"],
    ]);
    expect(violations(bad)).toEqual([
      'src/core/a.ts: core may not import src/worker/app.ts (worker)',
      'src/core/a.ts: core may not import src/train/fit.ts (train)',
      'src/core/a.ts: core may not import "node:fs"',
      'src/core/b.ts: core may not import the types of "cloudflare:workers"',
      'src/core/b.ts: core may not use the platform global crypto',
      'src/core/c.ts: core may not import src/worker/x.ts (worker)',
      'src/core/c.ts: core may not import "iab-openrtb/v26"', // a value import: only its types are allowed
      'src/core/c.ts: core may not import "zod"',
      'src/worker/w.ts: worker may not import src/train/fit.ts (train)',
      'src/train/t.ts: train may not import src/worker/shared/types.ts (worker)',
      'snippets/s.ts: snippet may not import src/core/murmur3.ts (core)',
      'src/worker/a/one-routes.ts: imports the route module src/worker/b/two-routes.ts, which only src/worker/app.ts mounts',
      'src/worker/b/sneaky.ts: builds a Hono app, so it is a route module and must be named *-routes.ts',
      'import circle: src/worker/x/p.ts → src/worker/x/q.ts',
    ]);
  });

  it('are the arrows docs/architecture.md shows', () => {
    const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    const block = /```json\n(\{\n {2}"\$comment": "Which import arrows[\s\S]*?)\n```/.exec(doc)?.[1];
    expect(block, 'docs/architecture.md holds src/boundaries.json in a json block').toBeDefined();
    expect(JSON.parse(block!)).toEqual(rules);
  });
});
