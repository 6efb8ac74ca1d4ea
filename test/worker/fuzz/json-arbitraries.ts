/**
 * Arbitraries for JSON bodies: hostile values (raw `1e999`, deep nesting, lone surrogates…),
 * mutations of a valid value (a field removed, a wrong type, `__proto__` keys, a list repeated
 * past its cap) and of its text (duplicate keys, truncation, stray characters), and `jsonBody`,
 * which mixes valid, mutated and random bodies for a route.
 */
import fc from 'fast-check';
import { chunked, encoding, nastyString, randomBody } from './arbitraries.ts';
import type { FuzzBody } from './harness.ts';
/** Raw JSON text put in place of a value: what JSON.stringify can never write, but JSON.parse reads. */
export class RawJson {
  constructor(readonly text: string) {}
}

export const RAW_NUMBERS = [
  '1e999',
  '-1e999',
  '-0',
  '1E400',
  '123456789012345678901234567890',
  '1e-400',
  '0.1e1',
  '-0.0',
  '9007199254740993',
];

/** Nested `n` deep as text, so nothing recursive runs before the Worker parses it. */
export const deepNesting = fc
  .tuple(fc.integer({ min: 64, max: 30_000 }), fc.boolean())
  .map(([n, arrays]) => new RawJson(arrays ? `${'['.repeat(n)}${']'.repeat(n)}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`));

export const nastyNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, 1, 1e308, -1e308, 2 ** 53 + 2, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 0.1, 5e-324, 1.5, 65536, 1e21),
  fc.constantFrom(...RAW_NUMBERS).map((t) => new RawJson(t)),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** A value of any JSON type, hostile where it can be. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: nastyString },
  { weight: 3, arbitrary: nastyNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom([], {}, [[]], [null], { __proto__: null }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: deepNesting },
);

/** JSON text, with RawJson values written as they are. */
export function toJsonText(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `@@raw${raws.length - 1}@@`;
    }
    return v;
  });
  if (text === undefined) return '';
  return raws.length === 0 ? text : text.replace(/"@@raw(\d+)@@"/g, (_m, i: string) => raws[Number(i)]!);
}

type Path = (string | number)[];

/** Every path in a value, depth first, the root first. */
function pathsOf(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (out.length > 500) return out;
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) pathsOf(v[i], [...at, i], out);
  else if (v !== null && typeof v === 'object' && !(v instanceof RawJson))
    for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out);
  return out;
}

export type Mutation =
  | { op: 'delete'; at: number }
  | { op: 'set'; at: number; value: unknown }
  | { op: 'addKey'; at: number; key: string; value: unknown }
  | { op: 'wrap'; at: number; array: boolean }
  | { op: 'repeat'; at: number; times: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: nastyValue }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('addKey' as const),
      at: fc.nat(),
      key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', ''), fc.string({ maxLength: 12 })),
      value: nastyValue,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('wrap' as const), at: fc.nat(), array: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('repeat' as const), at: fc.nat(), times: fc.integer({ min: 2, max: 700 }) }) },
);

/** `value` with one mutation applied (a fresh copy; RawJson leaves are kept). */
export function mutate(value: unknown, m: Mutation): unknown {
  const root = { v: structuredCloneJson(value) };
  const paths = pathsOf(root.v);
  const path = paths[m.at % paths.length]!;
  let parent: any = root;
  let key: string | number = 'v';
  for (const p of path) {
    parent = parent[key];
    key = p;
  }
  const current = parent[key];
  switch (m.op) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 'set':
      parent[key] = m.value;
      break;
    case 'addKey':
      if (current !== null && typeof current === 'object' && !Array.isArray(current) && !(current instanceof RawJson))
        Object.defineProperty(current, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      else parent[key] = { [m.key]: m.value };
      break;
    case 'wrap':
      parent[key] = m.array ? [current] : { value: current };
      break;
    case 'repeat':
      parent[key] =
        Array.isArray(current) && current.length > 0
          ? Array.from({ length: m.times }, (_, i) => current[i % current.length])
          : Array(m.times).fill(current);
      break;
  }
  return root.v;
}

function structuredCloneJson(v: unknown): unknown {
  if (v instanceof RawJson) return v;
  if (Array.isArray(v)) return v.map(structuredCloneJson);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      Object.defineProperty(out, k, { value: structuredCloneJson(x), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

export type TextMutation =
  | { op: 'dupKey'; at: number; value: unknown; after: boolean }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'bom' }
  | { op: 'pad'; n: number };

export const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('dupKey' as const), at: fc.nat(), value: nastyValue, after: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      at: fc.nat(),
      text: fc.constantFrom(',', '\u0000', '}', ']', '//x', '/*', '\uFEFF', 'NaN', '\\', '"', '\uD800', ',,', ' '),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'bom' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('pad' as const), n: fc.integer({ min: 1, max: 70_000 }) }) },
);

/** Applies a text mutation to JSON text: a key repeated, the text cut, a stray character. */
export function mutateText(text: string, m: TextMutation): string {
  switch (m.op) {
    case 'dupKey': {
      const keys = [...text.matchAll(/"((?:[^"\\]|\\.)*)":/g)];
      if (keys.length === 0) return text;
      const hit = keys[m.at % keys.length]!;
      const value = toJsonText(m.value === undefined ? null : m.value);
      const start = hit.index!;
      if (!m.after) return `${text.slice(0, start)}"${hit[1]}":${value},${text.slice(start)}`;
      // after the key's own value: find the comma or brace that ends it by parsing forward
      const end = valueEnd(text, start + hit[0].length);
      return end === -1 ? text : `${text.slice(0, end)},"${hit[1]}":${value}${text.slice(end)}`;
    }
    case 'truncate':
      return text.slice(0, m.at % Math.max(1, text.length));
    case 'insert': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'bom':
      return `\uFEFF${text}`;
    case 'pad':
      return `${' '.repeat(m.n)}${text}`;
  }
}

/** Where the JSON value starting at `i` ends, or -1. */
function valueEnd(text: string, i: number): number {
  let depth = 0;
  let inString = false;
  for (let j = i; j < text.length; j++) {
    const c = text[j]!;
    if (inString) {
      if (c === '\\') j++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (depth === 0) return j;
      depth--;
    } else if (c === ',' && depth === 0) return j;
  }
  return -1;
}

/** Bodies for a JSON route: valid ones, mutated ones (value and text), and random ones. */
export function jsonBody(valid: fc.Arbitrary<unknown>): fc.Arbitrary<FuzzBody> {
  const text: fc.Arbitrary<string> = fc.oneof(
    { weight: 4, arbitrary: valid.map(toJsonText) },
    {
      weight: 6,
      arbitrary: fc
        .tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.option(textMutation, { freq: 4 }))
        .map(([v, ms, tm]) => {
          const t = toJsonText(ms.reduce(mutate, v));
          return tm === null ? t : mutateText(t, tm);
        }),
    },
  );
  return fc.oneof(
    { weight: 9, arbitrary: fc.tuple(text, encoding, chunked).map(([t, e, c]) => ({ text: t, encoding: e, chunked: c })) },
    { weight: 1, arbitrary: randomBody },
  );
}
