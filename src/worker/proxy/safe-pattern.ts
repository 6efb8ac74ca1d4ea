/**
 * Whether a page rule's `itemFrom` regular expression stays quick on any path. The rule is an
 * admin's, the path a visitor's, and the regex engine backtracks: `^/p/((?:a|a)+)$` on
 * `/p/aaaa…!` takes time exponential in the path's length, and even `(.*)(.*)(.*)x` takes seconds
 * on 256 characters, inside a request. The path is clipped to `MAX_PATH` characters before
 * matching (recommend-slot.ts), and a pattern is refused when:
 * - a group repeated more than once (`*`, `+`, `{2,}`, …) holds a repetition or an alternative
 *   (`(a+)+`, `(?:a|ab)*`): exponential;
 * - it refers back to a group (`\1`, `\k<name>`): no bound at all;
 * - its repetitions multiply past `MAX_PATH²` ways of splitting the path: each open-ended one
 *   (`*`, `+`, `{n,}`, or more than 16 times) counts `MAX_PATH`, a bounded one its count + 1,
 *   and a pattern not anchored with `^` is tried at every position, `MAX_PATH` more. So
 *   `^/p/([^/]+)$` or `/p/(\d+)` is fine, `^/p/(.*)-(.*)-(.*)$` is not.
 */

/** Characters of the path an `itemFrom` pattern is matched against. */
export const MAX_PATH = 256;
const OPEN_ENDED = MAX_PATH + 1;
const BUDGET = OPEN_ENDED * OPEN_ENDED;

interface Frame {
  quantified: boolean;
  alternative: boolean;
}

/** Why `source` can take long on a `MAX_PATH`-character path, or null when it cannot. */
export function backtrackingRisk(source: string): string | null {
  const stack: Frame[] = [{ quantified: false, alternative: false }];
  /** the atom a quantifier would apply to: a group's frame, 'one' for a single character or class */
  let atom: Frame | 'one' | null = null;
  let cost = source.startsWith('^') ? 1 : OPEN_ENDED;
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    const frame = stack[stack.length - 1]!;
    if (ch === '\\') {
      const next = source[i + 1] ?? '';
      if (/[1-9]/.test(next) || (next === 'k' && source[i + 2] === '<')) return 'refers back to a group (\\1, \\k<…>)';
      atom = 'one';
      i += 2;
      continue;
    }
    if (ch === '[') {
      i++;
      if (source[i] === '^') i++;
      if (source[i] === ']') i++; // a leading ] is a member
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      i++;
      atom = 'one';
      continue;
    }
    if (ch === '(') {
      stack.push({ quantified: false, alternative: false });
      atom = null;
      if (source[i + 1] !== '?') i++;
      else if (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
        const close = source.indexOf('>', i); // (?<name>
        i = close === -1 ? source.length : close + 1;
      } else i += source[i + 2] === '<' ? 4 : 3; // (?: (?= (?! (?<= (?<!
      continue;
    }
    if (ch === ')') {
      const closed = stack.length > 1 ? stack.pop()! : frame;
      const parent = stack[stack.length - 1]!;
      parent.quantified ||= closed.quantified;
      parent.alternative ||= closed.alternative;
      atom = closed;
      i++;
      continue;
    }
    if (ch === '|') {
      frame.alternative = true;
      atom = null;
      i++;
      continue;
    }
    const q = /^(?:[*+?]|\{(\d+)(?:(,)(\d*))?\})/.exec(source.slice(i, i + 24));
    if (q !== null && atom !== null) {
      const [text, min, comma, maxText] = q;
      const max =
        text === '?'
          ? 1
          : text === '*' || text === '+'
            ? Infinity
            : comma === undefined
              ? Number(min)
              : maxText === ''
                ? Infinity
                : Number(maxText);
      if (atom !== 'one' && max > 1 && (atom.quantified || atom.alternative))
        return 'repeats a group that holds a repetition or an alternative (nested or alternating quantifiers)';
      frame.quantified = true;
      cost *= max > 16 ? OPEN_ENDED : max + 1;
      if (cost > BUDGET)
        return `has too many repetitions: at most two open-ended ones (*, +, {n,}), counting one for a pattern not anchored with ^`;
      atom = null;
      i += text.length + (source[i + text.length] === '?' ? 1 : 0); // a lazy quantifier backtracks alike
      continue;
    }
    atom = ch === '^' || ch === '$' ? null : 'one';
    i++;
  }
  return null;
}
