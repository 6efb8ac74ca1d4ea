import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../src/worker/shared/json-depth.ts';

const nested = (n: number): unknown => JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`);
const nestedObjects = (n: number): unknown => JSON.parse(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`);

describe('nestsDeeperThan', () => {
  it('counts arrays and objects, scalars as depth 0, and refuses one past the limit', () => {
    for (const scalar of [null, 1, 'x', true]) expect(nestsDeeperThan(scalar, 0)).toBe(false);
    expect(nestsDeeperThan([], 0)).toBe(true);
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(nestsDeeperThan(nestedObjects(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(nestsDeeperThan(nestedObjects(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    // a wide value is not deep
    expect(nestsDeeperThan({ a: [1, 2, { b: [] }], c: Array.from({ length: 1000 }, () => ({})) }, 4)).toBe(false);
    // the deep branch found beside shallow ones
    expect(nestsDeeperThan({ a: 1, b: [[[[]]]] }, 4)).toBe(true);
  });

  it('checks values nested far past any stack without overflowing', () => {
    expect(nestsDeeperThan(nested(200_000), MAX_JSON_DEPTH)).toBe(true);
  });
});
