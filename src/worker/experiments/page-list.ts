/**
 * The admin page's list of tests (status, leader and its P(best), days running, the one-line
 * health verdict) and the create form, whose fields show their rules and whose bad field is
 * marked and named.
 */
import { html } from 'hono/html';
import { ALGORITHMS } from '../../core/bandits/types.ts';
import type { Experiment } from '../../core/experiments/experiment.ts';
import type { ReadOut } from '../../core/experiments/read-out.ts';
import { FORM_FIELDS } from './page-form.ts';
import { BASE, daysText } from './page-layout.ts';

export interface Summary {
  readonly experiment: Experiment;
  /** null for archived tests, and when the live aggregator did not answer */
  readonly readOut: ReadOut | null;
}

function summaryRow({ experiment: e, readOut: r }: Summary, q: string) {
  const leader = r?.noData
    ? html`<span class="muted">no data yet</span>`
    : r?.leader
      ? html`${r.leader.arm} <span class="muted">P(best) ${r.leader.probabilityBest.toFixed(2)}</span>`
      : '–';
  const health = r ? html`<span class="${r.health.level === 'ok' ? 'ok' : ''}">${r.health.verdict}</span>` : '–';
  const stopped = e.status === 'stopped' && e.winner ? html` <span class="muted">→ ${e.winner}</span>` : '';
  return html`<tr data-key="${e.key}"><td><a href="${BASE}/${e.key}${q}">${e.key}</a><br><span class="muted">${e.name}</span></td>
<td><span class="badge ${e.status}">${e.status}</span>${stopped}</td><td>${leader}</td><td class="n">${r ? daysText(r.daysRunning) : '–'}</td>
<td class="health">${health}</td><td>${e.algorithm.name}</td></tr>`;
}

function field(name: string, control: ReturnType<typeof html>, invalid: string | null, message: string | undefined) {
  const f = FORM_FIELDS.find((x) => x.name === name)!;
  const bad = invalid === name;
  return html`<div class="${bad ? 'invalid' : ''}" id="field-${name}"><label for="${name}">${f.label}</label>${control}
<small class="rule" id="rule-${name}">${f.rule}</small>${bad ? html`<p class="field-error" role="alert">${message}</p>` : ''}</div>`;
}

/** `q`: what links and forms carry to stay on the page's site (page-layout.ts `PageOptions.q`). */
export function listView(
  all: readonly Summary[],
  error?: { message: string; field: string | null },
  form: Record<string, string> = {},
  q = '',
) {
  const bad = error?.field ?? null;
  const aria = (name: string) => (bad === name ? 'true' : 'false');
  const v = (name: string, fallback = '') => form[name] ?? fallback;
  return html`<h1>Tests</h1>
<p><a href="${BASE}/_reports">Insights reports</a> (npm run insights -- --publish)</p>
${error ? html`<p class="error" role="alert" id="form-error">${bad ? html`Check <b>${FORM_FIELDS.find((f) => f.name === bad)?.label ?? bad}</b>: ` : ''}${error.message}</p>` : ''}
<div class="scroll"><table id="experiments"><thead><tr><th>test</th><th>status</th><th>leader</th><th>running</th><th>health</th><th>algorithm</th></tr></thead><tbody>
${all.length === 0 ? html`<tr><td colspan="6">no tests yet</td></tr>` : all.map((x) => summaryRow(x, q))}
</tbody></table></div>
<h2>Create a test</h2>
<form method="post" action="${BASE}${q}" id="create" novalidate><fieldset>
${field('key', html`<input id="key" name="key" required aria-invalid="${aria('key')}" aria-describedby="rule-key" value="${v('key')}">`, bad, error?.message)}
${field('name', html`<input id="name" name="name" required aria-invalid="${aria('name')}" aria-describedby="rule-name" value="${v('name')}">`, bad, error?.message)}
${field(
  'arms',
  html`<textarea id="arms" name="arms" required aria-invalid="${aria('arms')}" aria-describedby="rule-arms" placeholder="control | Start your free trial&#10;bold | Try it free today">${v('arms')}</textarea>`,
  bad,
  error?.message,
)}
${field(
  'payloadType',
  html`<select id="payloadType" name="payloadType" aria-describedby="rule-payloadType">${['text', 'html', 'url', 'json'].map((t) => html`<option ${v('payloadType') === t ? 'selected' : ''}>${t}</option>`)}</select>`,
  bad,
  error?.message,
)}
${field('goals', html`<input id="goals" name="goals" aria-invalid="${aria('goals')}" aria-describedby="rule-goals" value="${v('goals', 'click')}">`, bad, error?.message)}
${field(
  'algorithm',
  html`<select id="algorithm" name="algorithm" aria-describedby="rule-algorithm">${ALGORITHMS.map((a) => html`<option ${v('algorithm', 'thompson') === a ? 'selected' : ''}>${a}</option>`)}</select>`,
  bad,
  error?.message,
)}
${field('weights', html`<input id="weights" name="weights" aria-invalid="${aria('weights')}" aria-describedby="rule-weights" placeholder="50, 50" value="${v('weights')}">`, bad, error?.message)}
${field(
  'floor',
  html`<input id="floor" name="floor" type="number" step="0.001" min="0" max="1" aria-invalid="${aria('floor')}" aria-describedby="rule-floor" value="${v('floor', '0.01')}">`,
  bad,
  error?.message,
)}
${field(
  'traffic',
  html`<input id="traffic" name="traffic" type="number" step="0.01" min="0" max="1" aria-invalid="${aria('traffic')}" aria-describedby="rule-traffic" value="${v('traffic', '1')}">`,
  bad,
  error?.message,
)}
${field(
  'publishSeconds',
  html`<input id="publishSeconds" name="publishSeconds" type="number" min="1" max="3600" aria-invalid="${aria('publishSeconds')}" aria-describedby="rule-publishSeconds" value="${v('publishSeconds', '5')}">`,
  bad,
  error?.message,
)}
${field('guardrails', html`<input id="guardrails" name="guardrails" aria-invalid="${aria('guardrails')}" aria-describedby="rule-guardrails" placeholder="refund, bounce" value="${v('guardrails')}">`, bad, error?.message)}
${field(
  'plannedDailyExposures',
  html`<input id="plannedDailyExposures" name="plannedDailyExposures" type="number" min="1" step="1" aria-invalid="${aria('plannedDailyExposures')}" aria-describedby="rule-plannedDailyExposures" value="${v('plannedDailyExposures')}">`,
  bad,
  error?.message,
)}
<p><button type="submit">Create</button></p></fieldset></form>`;
}
