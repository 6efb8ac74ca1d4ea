/**
 * The campaigns page's views (page-routes.ts serves them): the list with each campaign's budget
 * and today's pacing, the create form, and a campaign's page with its stats, charts, actions and
 * its JSON to edit. Server-rendered (hono/html escapes every value), no client script.
 */
import { html, raw } from 'hono/html';
import type { Campaign } from '../../core/bidding/campaign.ts';
import type { StatsFigures } from '../../core/bidding/campaign-stats.ts';
import type { Pacing, StatsReport } from './campaign-report.ts';
import { dayChart, pacingBar } from './stats-chart.ts';

export const BASE = '/ui/campaigns';

/** The UTC days from `from` to `to` (YYYY-MM-DD), both included. */
export function daysFrom(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(from), end = Date.parse(to); t <= end && out.length < 400; t += 86_400_000)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

const money = (x: number) => `$${x.toFixed(x !== 0 && Math.abs(x) < 1 ? 4 : 2)}`;
const maybe = (x: number | null, f: (v: number) => string) => (x === null ? '–' : f(x));
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

function pacingCell(id: string, p: Pacing) {
  return html`${raw(pacingBar(`pacing-${id}`, p))}<br><small>${money(p.spentToday)} spent${p.reserved > 0 ? html` + ${money(p.reserved)} in flight` : ''} · plan ${money(p.plan)} · budget ${money(p.daily)}${p.total !== undefined ? html` (total ${money(p.spentTotal)} of ${money(p.total)})` : ''}</small>`;
}

export interface ListRow {
  readonly campaign: Campaign;
  readonly pacing: Pacing | null;
  readonly today: StatsFigures | null;
}

export function listView(rows: readonly ListRow[], error?: string, form: Record<string, string> = {}) {
  return html`<h1>Campaigns</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<table id="campaigns"><thead><tr><th>campaign</th><th>status</th><th>goal</th><th>today: spent vs plan</th><th>bids</th><th>wins</th><th>spend</th></tr></thead><tbody>
${
  rows.length === 0
    ? html`<tr><td colspan="7">no campaigns yet</td></tr>`
    : rows.map(
        (
          r,
        ) => html`<tr data-campaign="${r.campaign.id}"><td><a href="${BASE}/${r.campaign.id}">${r.campaign.id}</a><br><small>${r.campaign.adomain} · ${r.campaign.pacing}</small></td>
<td><span class="badge ${r.campaign.status}">${r.campaign.status}</span></td><td>${r.campaign.bid.goal} ${money(r.campaign.bid.value)}</td>
<td>${r.pacing ? pacingCell(r.campaign.id, r.pacing) : '–'}</td><td class="n">${r.today?.bids ?? '–'}</td><td class="n">${r.today?.wins ?? '–'}</td><td class="n">${r.today ? money(r.today.spend) : '–'}</td></tr>`,
      )
}
</tbody></table>
<p><small>Today is the UTC day. The plan is the even line (the daily budget × the share of the day gone by); bids in flight are held against the budget until their notices come.</small></p>
<h2>Create a campaign</h2>
<form method="post" action="${BASE}" id="create"><fieldset>
<label for="id">Id</label><input id="id" name="id" required pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}" value="${form.id ?? ''}">
<label for="adomain">Advertiser domain</label><input id="adomain" name="adomain" required value="${form.adomain ?? ''}" placeholder="shop.example">
<label for="media">Media</label><select id="media" name="media">${['banner', 'video', 'native', 'audio'].map((m) => html`<option ${form.media === m ? 'selected' : ''}>${m}</option>`)}</select>
<label for="w">Size (w × h; empty: any)</label><input id="w" name="w" type="number" min="1" value="${form.w ?? '300'}"> × <input id="h" name="h" type="number" min="1" value="${form.h ?? '250'}" aria-label="height">
<label for="adm">Markup (<code>\${CLICK_URL}</code> where it links out)</label><textarea id="adm" name="adm" required>${form.adm ?? ''}</textarea>
<label for="clickUrl">Landing page</label><input id="clickUrl" name="clickUrl" type="url" value="${form.clickUrl ?? ''}" placeholder="https://shop.example/offer">
<label for="goal">Goal</label><select id="goal" name="goal">${['cpm', 'cpc', 'cpa'].map((g) => html`<option ${form.goal === g ? 'selected' : ''}>${g}</option>`)}</select>
<label for="value">Value (CPM, or per click / conversion)</label><input id="value" name="value" type="number" step="any" min="0" required value="${form.value ?? ''}">
<label for="defaultCtr">Default CTR (cpc, cpa without a model)</label><input id="defaultCtr" name="defaultCtr" type="number" step="any" min="0" max="1" value="${form.defaultCtr ?? ''}">
<label for="maxCpm">Max CPM</label><input id="maxCpm" name="maxCpm" type="number" step="any" min="0" required value="${form.maxCpm ?? ''}">
<label for="daily">Daily budget (USD)</label><input id="daily" name="daily" type="number" step="any" min="0" required value="${form.daily ?? ''}">
<label for="pacing">Pacing</label><select id="pacing" name="pacing">${['asap', 'even'].map((p) => html`<option ${form.pacing === p ? 'selected' : ''}>${p}</option>`)}</select>
<p><button type="submit">Create</button></p></fieldset></form>
<p><small>Targeting, deals, modifiers, caps and more creatives: edit the campaign's JSON on its page (docs/bidding.md explains every field).</small></p>`;
}

function figuresRow(label: string, f: StatsFigures) {
  return html`<tr><td>${label}</td><td class="n">${f.bids}</td><td class="n">${f.wins}</td><td class="n">${maybe(f.winRate, pct)}</td><td class="n">${f.impressions}</td>
<td class="n">${money(f.spend)}</td><td class="n">${maybe(f.ecpm, money)}</td><td class="n">${f.clicks}</td><td class="n">${maybe(f.ctr, pct)}</td><td class="n">${maybe(f.cpc, money)}</td>
<td class="n">${f.conversions}</td><td class="n">${maybe(f.cpa, money)}</td><td class="n">${money(f.shadingSavings)}${f.shadingSavingsShare !== null ? html` (${pct(f.shadingSavingsShare)})` : ''}</td></tr>`;
}

const STATS_HEAD = html`<thead><tr><th></th><th>bids</th><th>wins</th><th>win rate</th><th>impr.</th><th>spend</th><th>eCPM</th><th>clicks</th><th>CTR</th><th>CPC</th><th>conv.</th><th>CPA</th><th>shading saved</th></tr></thead>`;

export function detailView(c: Campaign, r: StatsReport, error?: string, json?: string) {
  // every day of the period, those without a row at 0, so the charts' x axis is time
  const days = daysFrom(r.from, r.to);
  const byDay = new Map(r.byDay.map((d) => [d.day, d]));
  const series = (pick: (d: StatsReport['byDay'][number]) => number) => days.map((day) => (byDay.has(day) ? pick(byDay.get(day)!) : 0));
  const action = c.status === 'active' ? 'pause' : 'resume';
  return html`<p><a href="${BASE}">← all campaigns</a></p>
<h1>${c.id} <span class="badge ${c.status}" id="status">${c.status}</span></h1>
<p>${c.adomain} · ${c.bid.goal} ${money(c.bid.value)} (max CPM ${money(c.bid.maxCpm)}) · ${c.pacing} · ${c.creatives.length} creative${c.creatives.length === 1 ? '' : 's'}</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<div id="actions"><form class="inline" method="post" action="${BASE}/${c.id}/${action}"><button type="submit">${action === 'pause' ? 'Pause' : 'Resume'}</button></form>
<a href="${BASE}/${c.id}?live=1">auto-refresh</a> · <a href="${BASE}/${c.id}/stats.csv">CSV</a></div>
<h2>Today</h2><div id="today">${pacingCell(c.id, r.today)}</div>
<h2>Stats, ${r.from} – ${r.to}</h2>
<table id="stats">${STATS_HEAD}<tbody>${figuresRow('total', r.totals)}${Object.entries(r.byExchange).map(([x, f]) => figuresRow(x, f))}</tbody></table>
<p><small>Bids, wins, impressions, spend, clicks and shading savings are the ledger's, live. Conversions come from the log (<code>npm run campaigns:conversions</code>): ${r.conversions ? `as of ${r.conversions.asOf}, ${r.conversions.window} window` : 'none attributed yet'}.</small></p>
${raw(
  dayChart('volume-chart', 'Bids and wins per day', days, [
    { name: 'bids', values: series((d) => d.bids) },
    { name: 'wins', values: series((d) => d.wins) },
  ]),
)}
${raw(
  dayChart(
    'spend-chart',
    'Spend per day',
    days,
    [
      { name: 'spend', values: series((d) => d.spend) },
      { name: 'shading saved', values: series((d) => d.shadingSavings) },
    ],
    '$',
  ),
)}
<h3>Per day</h3>
<table id="days">${STATS_HEAD}<tbody>${[...r.byDay].reverse().map((d) => figuresRow(d.day, d))}</tbody></table>
<h2>Edit</h2>
<form method="post" action="${BASE}/${c.id}" id="edit"><label for="json">The campaign (JSON, as the admin API takes it)</label>
<textarea id="json" name="json" style="min-height:320px;font-family:monospace">${json ?? JSON.stringify(c, null, 2)}</textarea>
<p><button type="submit">Save</button></p></form>`;
}
