/**
 * How deep a parsed JSON value nests, for the fields that take any JSON (an experiment arm's
 * `json` payload). `JSON.parse` takes nesting thousands deep, but what later copies or serializes
 * the value recursively (Durable Object calls, `JSON.stringify` in a storage layer) overflows the
 * stack on it: so such fields are bounded where they come in, with a 400 naming the field.
 */

/** Nesting an any-JSON field may have: far past any real creative config. */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether `value` nests deeper than `max` arrays and objects (a scalar is depth 0, `[]` is 1).
 * Walks with its own stack, never recursion, so the check cannot overflow on what it checks.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
