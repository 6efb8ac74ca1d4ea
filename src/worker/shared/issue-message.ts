/**
 * What a caller reads when a body fails its schema: zod/mini carries no locale, so every issue
 * would say "Invalid input". This error map words each issue kind with the rule it broke (the
 * limit, the allowed values, the expected type) and what was sent, so a caller can fix the
 * request without reading our source. A schema's own message (a `refine`'s, a regex's) wins.
 */
import type { $ZodRawIssue, $ZodType } from 'zod/v4/core';
import * as z from 'zod/mini';

const MAX_LISTED = 12;

/** `"foo"`, `17`, `true`; long strings cut, objects and arrays named rather than dumped. */
function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === null) return String(v);
  return kindOf(v);
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return `a ${typeof v}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  record: 'an object',
  bigint: 'an integer',
  null: 'null',
};
const typeName = (t: string) => TYPE_NAMES[t] ?? t;

function allowed(values: readonly unknown[]): string {
  const list = values.slice(0, MAX_LISTED).map((v) => (typeof v === 'string' ? v : String(v)));
  return `allowed: ${list.join(', ')}${values.length > MAX_LISTED ? `, … (${values.length} in all)` : ''}`;
}

/** What a field's entries are called: the field's own (plural) name, else "entries". */
function noun(path: readonly PropertyKey[] | undefined, count: number | bigint): string {
  const last = path?.[path.length - 1];
  const plural = typeof last === 'string' && /^[a-z]+s$/i.test(last) ? last : 'entries';
  if (Number(count) !== 1) return plural;
  return plural === 'entries' ? 'entry' : plural.slice(0, -1);
}

function sizeOf(input: unknown): number | null {
  if (typeof input === 'string' || Array.isArray(input)) return input.length;
  if (input instanceof Set || input instanceof Map) return input.size;
  if (typeof input === 'object' && input !== null) return Object.keys(input).length;
  return null;
}

function bound(iss: { origin: string; input?: unknown; path?: PropertyKey[] }, word: string, limit: number | bigint, inclusive: boolean) {
  const size = sizeOf(iss.input);
  if (iss.origin === 'string') {
    if (word === 'at least' && Number(limit) === 1 && inclusive) return 'must not be empty';
    return `${word} ${limit} characters (got ${size ?? '?'})`;
  }
  if (iss.origin === 'array' || iss.origin === 'set' || iss.origin === 'record' || iss.origin === 'map') {
    return `${word} ${limit} ${noun(iss.path, limit)} (got ${size ?? '?'})`;
  }
  const strict = word === 'at most' ? 'less than' : 'more than';
  return `${inclusive ? word : strict} ${limit} (got ${shown(iss.input)})`;
}

/** The message of one raw issue; `undefined` leaves a schema's own message in place. */
export function issueMessage(iss: $ZodRawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return `required: ${typeName(iss.expected)}`;
      return `expected ${typeName(iss.expected)} (got ${iss.expected === 'int' ? shown(iss.input) : kindOf(iss.input)})`;
    case 'too_big':
      return bound(iss, 'at most', iss.maximum, iss.inclusive !== false);
    case 'too_small':
      return bound(iss, 'at least', iss.minimum, iss.inclusive !== false);
    case 'invalid_value':
      if (iss.values.length === 1) return `must be ${shown(iss.values[0])} (got ${shown(iss.input)})`;
      return `unknown value ${shown(iss.input)}; ${allowed(iss.values)}`;
    case 'invalid_format':
      if (iss.format === 'regex') return `${shown(iss.input)} does not match ${String(iss.pattern)}`;
      if (iss.format === 'url') return `expected an absolute URL (got ${shown(iss.input)})`;
      return `expected ${iss.format} (got ${shown(iss.input)})`;
    case 'not_multiple_of':
      return `must be a multiple of ${iss.divisor} (got ${shown(iss.input)})`;
    case 'unrecognized_keys':
      return `unknown field${iss.keys.length === 1 ? '' : 's'} ${iss.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_key':
      return `key ${shown(iss.input)}: ${iss.issues[0]?.message ?? 'not allowed'}`;
    case 'invalid_element':
      return `entry ${shown(iss.key)}: ${iss.issues[0]?.message ?? 'not allowed'}`;
    case 'invalid_union': {
      const u = iss as typeof iss & { discriminator?: string; options?: unknown[] };
      if (u.discriminator !== undefined && u.options) {
        const got = (iss.input as Record<string, unknown> | undefined)?.[u.discriminator];
        return `${got === undefined ? 'required' : `unknown ${u.discriminator} ${shown(got)}`}; ${allowed(u.options)}`;
      }
      // every branch refused the type: name the types; a branch that took the type: its reason
      const firsts = iss.errors.map((e) => e[0]).filter((e) => e !== undefined);
      const reasoned = firsts.find((e) => e.code !== 'invalid_type');
      if (reasoned) return reasoned.message;
      const types = [...new Set(firsts.map((e) => typeName((e as { expected: string }).expected)))];
      return `expected ${types.join(' or ')} (got ${kindOf(iss.input)})`;
    }
    default:
      return undefined;
  }
}

/** `z.safeParse` with messages that name the rule. */
export function parseWithMessages<S extends $ZodType>(schema: S, data: unknown) {
  return z.safeParse(schema, data, { error: issueMessage });
}
