/**
 * One test on the admin page: its status (a stopped test reads as stopped, its winner served to
 * everybody), the health verdict and a red banner on a sample-ratio mismatch, the actions (stop,
 * re-randomize and archive ask for confirmation first; the winner picker starts at the arm most
 * likely best), the results ("no data yet" before any exposure), a fixed split's always-valid
 * read-out, time to decision, guardrails, the per-segment breakdown, the charts and the audit log.
 */
import { html, raw } from 'hono/html';
import { pausedArms, type Action, type Experiment } from '../../core/experiments/experiment.ts';
import type { ReadOut } from '../../core/experiments/read-out.ts';
import type { AggregatorStats } from './aggregator-stats.ts';
import { lineChart } from './chart.ts';
import { BASE, change, day, daysText, pct } from './page-layout.ts';

/** Actions that change what every visitor sees, or cannot be undone: asked twice. */
export const CONFIRM: ReadonlySet<Action> = new Set(['stop', 'rerandomize', 'archive']);

const ALLOWED: Record<Experiment['status'], Action[]> = {
  draft: ['launch', 'archive'],
  running: ['pause', 'stop', 'rerandomize'],
  paused: ['resume', 'stop', 'rerandomize'],
  stopped: ['archive'],
  archived: [],
};

const LABEL: Record<Action, string> = {
  launch: 'Launch',
  pause: 'Pause',
  resume: 'Resume',
  stop: 'Stop with winner',
  archive: 'Archive',
  rerandomize: 'Re-randomize',
  'pause-arm': 'Pause arm',
  'resume-arm': 'Resume arm',
};

const RECOMMENDATION: Record<string, string> = {
  keep_exploring: 'keep exploring',
  winner_found: 'winner found',
  stop_for_futility: 'no meaningful difference',
  stopped: 'stopped',
};

function actions(e: Experiment, r: ReadOut, q: string) {
  const winner = r.leader?.arm ?? e.control;
  return html`<div id="actions">${ALLOWED[e.status].map((a) =>
    a === 'stop'
      ? html`<form class="inline" method="post" action="${BASE}/${e.key}/stop${q}"><label for="winner" class="inline">Winner</label><select id="winner" name="winner" aria-label="winner">${e.arms.map(
          (arm) =>
            html`<option value="${arm.key}" ${arm.key === winner ? 'selected' : ''}>${arm.key}${arm.key === r.leader?.arm ? ' (most likely best)' : ''}</option>`,
        )}</select> <button type="submit" name="action" value="stop">${LABEL.stop}</button></form>`
      : html`<form class="inline" method="post" action="${BASE}/${e.key}/${a}${q}"><button type="submit">${LABEL[a]}</button></form>`,
  )}
<a href="${BASE}/${e.key}${q ? `${q}&` : '?'}live=1">auto-refresh</a> · <a href="/admin/experiments/${e.key}/results?format=csv">CSV</a></div>`;
}

function resultsTable(e: Experiment, r: ReadOut, allocation: readonly number[] | undefined, q: string) {
  const paused = pausedArms(e);
  const live = e.status === 'running' || e.status === 'paused';
  const share = (i: number) =>
    e.status === 'stopped' ? (e.arms[i]!.key === e.winner ? 1 : 0) : allocation !== undefined ? (allocation[i] ?? 0) : null;
  return html`<div class="scroll"><table id="results"><thead><tr><th>arm</th><th>impressions</th><th>conversions</th><th>rate</th><th>95 % credible interval</th><th>P(best)</th><th>expected loss</th><th>uplift vs control</th><th>${e.status === 'stopped' ? 'served' : 'allocation'}</th>${live ? html`<th></th>` : ''}</tr></thead><tbody>
${r.results.arms.map((a, i) => {
  const none = a.impressions === 0;
  const s = share(i);
  const isPaused = paused.includes(a.arm);
  return html`<tr data-arm="${a.arm}"><td>${a.arm}${a.arm === e.control ? html` <span class="muted">control</span>` : ''}${isPaused ? html` <span class="badge paused">paused</span>` : ''}</td>
<td class="n">${a.impressions}</td><td class="n">${a.conversions}</td>${
    none
      ? html`<td class="n muted" colspan="2">no data yet</td>`
      : html`<td class="n">${pct(a.rate)}</td><td class="n">${pct(a.rateLow)} – ${pct(a.rateHigh)}</td>`
  }
<td class="n">${none ? '–' : a.probabilityBest.toFixed(3)}</td><td class="n">${none ? '–' : a.expectedLoss.toFixed(5)}</td>
<td class="n">${a.uplift ? (none ? '–' : html`${change(a.uplift.median)} (${change(a.uplift.low)} – ${change(a.uplift.high)})`) : 'control'}</td>
<td class="n">${s === null ? '–' : pct(s, 1)}</td>${
    live
      ? html`<td><form class="inline" method="post" action="${BASE}/${e.key}/${isPaused ? 'resume-arm' : 'pause-arm'}${q}"><input type="hidden" name="arm" value="${a.arm}"><button type="submit">${isPaused ? 'Resume arm' : 'Pause arm'}</button></form></td>`
      : ''
  }</tr>`;
})}
</tbody></table></div>`;
}

function sequentialSection(r: ReadOut) {
  const s = r.sequential;
  if (!s) return '';
  const interval = (x: { estimate: number; low: number; high: number } | null) =>
    x ? html`${change(x.estimate)} (${change(x.low)} – ${change(x.high)})` : html`<span class="muted">not enough data yet</span>`;
  return html`<h2>Always-valid results (fixed split)</h2>
<p id="sequential"><b>${s.decision === 'significant' ? 'decision reached' : 'keep running'}</b>: ${s.reason}. Safe to look at any time (mSPRT, α = ${s.alpha} over the whole test).</p>
<div class="scroll"><table id="sequential-table"><thead><tr><th>arm</th><th>exposures</th><th>rate</th><th>difference vs ${s.control} (always-valid ${Math.round((1 - s.comparisonAlpha) * 100)} %)</th><th>relative uplift</th><th>p-value</th></tr></thead><tbody>
${s.arms.map(
  (a) => html`<tr><td>${a.arm}</td><td class="n">${a.exposures}</td><td class="n">${a.exposures > 0 ? pct(a.rate) : 'no data yet'}</td>
<td class="n">${a.arm === s.control ? 'control' : interval(a.difference)}</td><td class="n">${a.arm === s.control ? '' : interval(a.uplift)}</td>
<td class="n">${a.pValue === null ? '–' : a.pValue.toPrecision(2)}${a.significant ? html` <b>${a.direction}</b>` : ''}</td></tr>`,
)}
</tbody></table></div>`;
}

function healthSection(r: ReadOut) {
  const h = r.health;
  const srm = h.srm.verdict === 'mismatch';
  return html`${srm ? html`<p class="banner srm" id="srm-banner" role="alert">Sample ratio mismatch (p = ${h.srm.pValue?.toPrecision(2)}): the arms' exposures do not match the allocation served, so these results cannot be trusted. ${h.srm.reason}</p>` : ''}
<p id="health"><b>Health:</b> <span class="${h.level === 'ok' ? 'ok' : ''}">${h.verdict}</span></p>
${h.warnings.length > 0 ? html`<ul class="warnings" id="health-warnings">${h.warnings.map((w) => html`<li class="${w.level}">${w.message}</li>`)}</ul>` : ''}`;
}

function guardrailSection(r: ReadOut) {
  const g = r.guardrails;
  if (!g) return '';
  return html`<h2>Guardrails</h2><div class="scroll"><table id="guardrails"><thead><tr><th>guardrail</th><th>arm</th><th>exposures</th><th>events</th><th>rate</th><th>P(harm)</th></tr></thead><tbody>
${g.guardrails.flatMap((x) =>
  x.arms.map(
    (
      a,
    ) => html`<tr><td>${x.goal}</td><td>${a.arm}</td><td class="n">${a.exposures}</td><td class="n">${a.events}</td><td class="n">${a.exposures > 0 ? pct(a.rate) : 'no data yet'}</td>
<td class="n">${a.probabilityHarm === null ? '–' : a.probabilityHarm.toFixed(3)}${a.harmful ? html` <b>harmful</b>` : ''}</td></tr>`,
  ),
)}
</tbody></table></div>`;
}

function segmentSection(r: ReadOut, fixed: boolean) {
  if (r.segments.length === 0) return html`<h2>By segment</h2><p id="segments" class="muted">no data yet</p>`;
  return html`<h2>By segment</h2>
<p class="muted">Uplift against control with ${fixed ? 'always-valid' : '95 % credible'} intervals. No correction across segments: with many, some intervals clear zero by chance.</p>
<div class="scroll"><table id="segments"><thead><tr><th>segment</th><th>arm</th><th>exposures</th><th>conversions</th><th>rate</th><th>uplift vs control</th></tr></thead><tbody>
${r.segments.flatMap((s) =>
  s.arms.map(
    (
      a,
      i,
    ) => html`<tr data-segment="${s.dimension}:${s.value}">${i === 0 ? html`<td rowspan="${s.arms.length}">${s.dimension}: <b>${s.value}</b></td>` : ''}<td>${a.arm}</td>
<td class="n">${a.exposures}</td><td class="n">${a.conversions}</td><td class="n">${a.exposures > 0 ? pct(a.rate) : 'no data yet'}</td>
<td class="n">${a.uplift ? html`${change(a.uplift.estimate)} (${change(a.uplift.low)} – ${change(a.uplift.high)})` : html`<span class="muted">${a.note ?? 'control'}</span>`}</td></tr>`,
  ),
)}
</tbody></table></div>`;
}

function auditSection(e: Experiment) {
  return html`<h2>Audit log</h2><div class="scroll"><table id="audit"><thead><tr><th>when (UTC)</th><th>who</th><th>what</th><th>detail</th></tr></thead><tbody>
${[...e.history]
  .reverse()
  .map((h) => html`<tr><td class="n">${day(h.at)}</td><td>${h.by ?? '–'}</td><td>${h.action}</td><td>${h.detail ?? ''}</td></tr>`)}
</tbody></table></div>`;
}

/** `q`: what links and forms carry to stay on the page's site (page-layout.ts `PageOptions.q`). */
export function detailView(e: Experiment, r: ReadOut, stats: AggregatorStats, error?: string, q = '') {
  const arms = e.arms.map((a) => a.key);
  const last = stats.history.at(-1);
  const res = r.results;
  const ttd = r.timeToDecision;
  const recommendation =
    e.status === 'stopped'
      ? html`<p class="banner stopped" id="recommendation">Stopped: <b>${e.winner}</b> is served to 100 % of visitors.</p>`
      : r.noData
        ? html`<p id="recommendation"><b>no data yet</b>: no exposure has been counted.</p>`
        : html`<p id="recommendation"><b>${RECOMMENDATION[res.recommendation] ?? res.recommendation}</b>${res.recommendedArm ? html` → ${res.recommendedArm}` : ''}: ${res.reason}</p>`;
  return html`<p><a href="${BASE}${q}">← all tests</a></p>
<h1>${e.name} <span class="badge ${e.status}" id="status">${e.status}</span></h1>
<p>key <code>${e.key}</code> · ${e.algorithm.name}${e.algorithm.name === 'fixed' ? '' : `, floor ${e.algorithm.floor}`} · goals ${e.goals.join(', ')} · config v${e.version} · epoch ${e.epoch} · running ${daysText(r.daysRunning)}${e.winner ? html` · winner <b>${e.winner}</b>` : ''}</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
${healthSection(r)}
${actions(e, r, q)}
<h2>Results</h2>
${recommendation}
${resultsTable(e, r, last?.allocation, q)}
<p id="time-to-decision"><b>Time to decision:</b> ${
    e.status === 'stopped' || e.status === 'archived'
      ? 'decided'
      : ttd.ok
        ? ttd.days === 0
          ? ttd.basis === 'decided'
            ? 'decided'
            : `decided (${ttd.basis})`
          : `about ${ttd.days} day${ttd.days === 1 ? '' : 's'} more, ${ttd.basis}`
        : ttd.message
  }</p>
${sequentialSection(r)}
${guardrailSection(r)}
${segmentSection(r, e.algorithm.name === 'fixed')}
<h2>Over time</h2>
${raw(lineChart('allocation-chart', 'Allocation', arms, stats.history, (p) => p.allocation))}
${raw(lineChart('pbest-chart', 'Probability of being best', arms, stats.history, (p) => p.probabilityBest))}
<p>${stats.history.length} snapshots · last ${stats.snapshot ? new Date(stats.snapshot.at).toISOString() : 'never'} · ${stats.pending} exposures inside their attribution window · ${stats.early} goals waiting for their exposure</p>
${stats.evicted.pending + stats.evicted.early > 0 ? html`<p class="error" id="evicted">Evicted to stay under the storage caps: ${stats.evicted.pending} exposures and ${stats.evicted.early} waiting goals (conversions may be undercounted; docs/experiments.md, Limits)</p>` : ''}
${auditSection(e)}
<details><summary>Configuration</summary><pre>${JSON.stringify({ ...e, history: undefined }, null, 2)}</pre></details>`;
}

/** The second step of an action that needs confirming: what it will do, and the button that does it. */
export function confirmView(e: Experiment, action: Action, arm: string | undefined, q = '') {
  const what: Partial<Record<Action, string>> = {
    stop: `Stop "${e.name}": every visitor will get ${arm ?? 'the arm most likely best'} from now on. A stopped test cannot run again.`,
    rerandomize: `Re-randomize "${e.name}": every visitor is drawn again, and sticky assignments end.`,
    archive: `Archive "${e.name}": it leaves the list and cannot be changed again.`,
  };
  return html`<p><a href="${BASE}/${e.key}${q}">← back to ${e.key}</a></p><h1>Confirm</h1>
<p id="confirm-text">${what[action] ?? action}</p>
<form method="post" action="${BASE}/${e.key}/${action}${q}" id="confirm">${arm !== undefined ? html`<input type="hidden" name="winner" value="${arm}">` : ''}<input type="hidden" name="confirm" value="yes">
<button type="submit">${LABEL[action]}${arm !== undefined ? ` (${arm})` : ''}</button> <a href="${BASE}/${e.key}${q}">Cancel</a></form>`;
}
