/** itemFrom patterns that could make the regex engine backtrack for long are refused (src/worker/proxy/safe-pattern.ts). */
import { describe, expect, it } from 'vitest';
import { backtrackingRisk } from '../../src/worker/proxy/safe-pattern.ts';

describe('backtrackingRisk', () => {
  it.each([
    ['^/p/((?:a|a)+)$', 'nested or alternating'],
    ['^/p/((?:a|ab)*)$', 'nested or alternating'],
    ['(a+)+b', 'nested or alternating'],
    ['^/p/((a*)*)$', 'nested or alternating'],
    ['^/p/((?:x(a|b))+)', 'nested or alternating'], // the alternative one group down
    ['^/p/(a?){8}a{8}$', 'nested or alternating'],
    ['^/p/((?:ab){2,})', null],
    ['^/p/(a)\\1', 'refers back'],
    ['^/p/(?<id>a)\\k<id>', 'refers back'],
    ['(.*)(.*)(.*)x', 'too many repetitions'],
    ['a*a*b', 'too many repetitions'], // two, and tried at every position
    ['^/p/(.*)-(.*)-(.*)$', 'too many repetitions'],
    ['^/p/a{0,99}a{0,99}a{0,99}b(x)', 'too many repetitions'],
  ])('refuses %s', (pattern, reason) => {
    if (reason === null) expect(backtrackingRisk(pattern)).toBeNull();
    else expect(backtrackingRisk(pattern)).toContain(reason);
  });

  it.each([
    '^/p/([^/]+)',
    '/p/([^/]+)',
    '^/p/([^/]+)/?$',
    '/products/(\\d+)',
    '^/p/(?<id>[^/]+)',
    '^/p/([^/]+)(?:/(?:reviews|specs))?$',
    '^/p/((?:a+)?)', // a repetition in a group taken at most once
    '^/shop/[^/]+/([^/?]+)',
    '^/p/([\\](+*]+)', // quantifier characters in a class, a ] escaped
    '^/p/(\\(+)',
    '^/p/(a{2}b{3})',
  ])('accepts %s', (pattern) => {
    expect(backtrackingRisk(pattern)).toBeNull();
  });
});
