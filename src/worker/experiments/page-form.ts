/**
 * The admin page's create form: its fields with the rule each must meet (shown beside the
 * field), the form → an experiment config (validated afterwards like any API body, schema.ts),
 * and which form field a validation error names.
 */
import { ALGORITHMS } from '../../core/bandits/types.ts';

export interface FormField {
  readonly name: string;
  readonly label: string;
  /** the rule, shown under the field */
  readonly rule: string;
}

export const FORM_FIELDS: readonly FormField[] = [
  { name: 'key', label: 'Key', rule: 'lower-case letters, digits, "_" or "-"; starts with a letter or digit; at most 64' },
  { name: 'name', label: 'Name', rule: 'required; at most 128 characters' },
  {
    name: 'arms',
    label: 'Arms',
    rule: 'one per line, key | creative; 2 to 16 arms with distinct keys (same rule as the test key); the first is the control',
  },
  { name: 'payloadType', label: 'Creative type', rule: 'text, html, url (http or https) or json, for every arm' },
  { name: 'goals', label: 'Goals', rule: 'comma-separated outcome names (click, purchase, …) or custom goal names; 1 to 16' },
  { name: 'algorithm', label: 'Algorithm', rule: `${ALGORITHMS.join(', ')}; fixed is a plain A/B test with always-valid results` },
  {
    name: 'weights',
    label: 'Weights (fixed only)',
    rule: 'comma-separated, one per arm, each ≥ 0, at least two above 0; empty: equal shares',
  },
  { name: 'floor', label: 'Exploration floor per arm', rule: 'a number from 0 to 1, floor × arms ≤ 1 (bandits only)' },
  { name: 'traffic', label: 'Traffic share', rule: 'the share of visitors in the test, from 0 to 1' },
  { name: 'publishSeconds', label: 'Publish posteriors every (s)', rule: 'from 1 to 3600 seconds' },
  {
    name: 'guardrails',
    label: 'Guardrail goals',
    rule: 'optional; comma-separated goal names that must not get worse (refund, bounce, error): a harmed arm is paused',
  },
  {
    name: 'plannedDailyExposures',
    label: 'Planned exposures a day',
    rule: 'optional; a whole number ≥ 1: the health check warns when traffic falls below half of it',
  },
];

/** The form field a validation error's field names (`arms[1].payload.value` → `arms`). */
export function formFieldOf(field: string | undefined): string | null {
  if (field === undefined) return null;
  const head = /^[A-Za-z]+/.exec(field)?.[0] ?? '';
  if (head === 'algorithm') {
    const sub = /^algorithm\.(\w+)/.exec(field)?.[1];
    return sub === 'floor' || sub === 'weights' ? sub : 'algorithm';
  }
  if (head === 'control') return 'arms';
  return FORM_FIELDS.some((f) => f.name === head) ? head : null;
}

const list = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '');

export function formToConfig(form: Record<string, string>): unknown {
  const type = form.payloadType ?? 'text';
  const arms = (form.arms ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((line) => {
      const bar = line.indexOf('|');
      const key = (bar < 0 ? line : line.slice(0, bar)).trim();
      const text = bar < 0 ? key : line.slice(bar + 1).trim();
      let value: unknown = text;
      if (type === 'json') {
        try {
          value = JSON.parse(text);
        } catch {
          value = text;
        }
      }
      return { key, payload: { type, value } };
    });
  const num = (s: string | undefined) => (s === undefined || s.trim() === '' ? undefined : Number(s));
  const weights = list(form.weights).map(Number);
  const algorithm = form.algorithm || 'thompson';
  return {
    key: form.key,
    name: form.name,
    arms,
    goals: list(form.goals),
    algorithm: {
      name: algorithm,
      ...(num(form.floor) !== undefined && algorithm !== 'fixed' ? { floor: num(form.floor) } : {}),
      ...(weights.length > 0 ? { weights } : {}),
    },
    ...(num(form.traffic) !== undefined ? { traffic: num(form.traffic) } : {}),
    ...(num(form.publishSeconds) !== undefined ? { publishSeconds: num(form.publishSeconds) } : {}),
    ...(list(form.guardrails).length > 0 ? { guardrails: list(form.guardrails).map((goal) => ({ goal })) } : {}),
    ...(num(form.plannedDailyExposures) !== undefined ? { plannedDailyExposures: num(form.plannedDailyExposures) } : {}),
  };
}
