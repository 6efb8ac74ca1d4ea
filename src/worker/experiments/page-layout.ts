/**
 * The admin page's frame: one stylesheet (readable from 375 px wide up: tables scroll inside
 * their box, charts scale, form fields take the width), a header with sign-out, and the number
 * formats every view shares. Server-rendered with hono/html, which escapes every value.
 * Once sites exist, the header names the site the page acts on and, for the deployment admin,
 * switches between them (sites/admin-page-site.ts).
 */
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { SiteBar } from '../sites/admin-page-site.ts';

export const BASE = '/ui/experiments';

const STYLE = `*{box-sizing:border-box}body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#111827;background:#f9fafb}
header.top{display:flex;justify-content:space-between;align-items:center;gap:8px;padding:8px 16px;background:#111827;color:#fff}
header.top a{color:#fff;text-decoration:none;font-weight:600}header.top form{margin:0}
nav.sites{display:flex;flex-wrap:wrap;gap:4px 10px;align-items:center}nav.sites a{font-weight:400}nav.sites [aria-current]{text-decoration:underline}
main{max-width:980px;margin:0 auto;padding:16px}h1{font-size:20px;overflow-wrap:anywhere}h2{font-size:16px;margin-top:28px}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid #e5e7eb;padding:6px 8px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.badge{display:inline-block;padding:1px 8px;border-radius:9px;background:#e5e7eb;font-size:12px}
.running{background:#dcfce7}.paused{background:#fef9c3}.stopped{background:#fee2e2}.archived{background:#e5e7eb}
.error{background:#fee2e2;border:1px solid #fca5a5;padding:8px 12px}.warn{background:#fef9c3;border:1px solid #fde047;padding:8px 12px}
.banner{padding:10px 14px;border-radius:4px;margin:12px 0;font-weight:600}.banner.srm{background:#dc2626;color:#fff}
.banner.stopped{background:#1f2937;color:#fff}.ok{color:#166534}.muted{color:#6b7280}
form.inline{display:inline-block;margin:0 6px 6px 0}label{display:block;margin:10px 0 2px;font-weight:600}
input,select,textarea{font:inherit;padding:6px;width:100%;max-width:480px}input[type=checkbox]{width:auto}
small.rule{display:block;color:#6b7280}.invalid input,.invalid select,.invalid textarea{border:2px solid #dc2626}.invalid small.rule{color:#b91c1c}
p.field-error{color:#b91c1c;margin:2px 0;font-weight:600}
textarea{min-height:80px}fieldset{border:1px solid #e5e7eb;background:#fff;padding:12px 16px}
button{font:inherit;padding:6px 14px;cursor:pointer;min-height:36px}svg{max-width:100%;height:auto}
ul.warnings{padding-left:20px}@media (max-width:600px){main{padding:10px}th,td{padding:4px 6px}}`;

export interface PageOptions {
  /** reload every 5 s (`?live=1`) */
  readonly refresh?: boolean;
  /** show the header's sign-out (every page but the sign-in form; default false) */
  readonly signedIn?: boolean;
  /** the site the page acts on, and the switcher (null or unset: no sites configured) */
  readonly site?: SiteBar | null;
  /** what every link to this site's pages carries (`?site=<id>` on ADMIN_HOST), else '' */
  readonly q?: string;
}

function siteNav(bar: SiteBar) {
  if (bar.sites === undefined) return html`<span id="site">site <b>${bar.current}</b></span>`;
  return html`<nav class="sites" id="site-switcher" aria-label="sites">site: ${bar.sites.map((s) =>
    s.id === bar.current
      ? html`<b aria-current="page" data-site="${s.id}">${s.id}</b>`
      : s.href === null
        ? html`<span class="muted" data-site="${s.id}">${s.id}</span>`
        : html`<a href="${s.href}" data-site="${s.id}">${s.id}</a>`,
  )}</nav>`;
}

export function page(title: string, body: HtmlEscapedString | Promise<HtmlEscapedString>, opts: PageOptions | boolean = {}) {
  const o: PageOptions = typeof opts === 'boolean' ? { refresh: opts } : opts;
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${o.refresh ? raw('<meta http-equiv="refresh" content="5">') : ''}<title>${title} · attune experiments</title><style>${raw(STYLE)}</style></head>
<body><header class="top"><a href="${BASE}${o.q ?? ''}">attune experiments</a>${o.site ? siteNav(o.site) : ''}${
    o.signedIn ? html`<form method="post" action="${BASE}/logout"><button type="submit" id="sign-out">Sign out</button></form>` : ''
  }</header><main>${body}</main></body></html>`;
}

export const pct = (x: number, digits = 2) => `${(x * 100).toFixed(digits)} %`;

/** A signed percentage change: +12.3 %. */
export const change = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;

export const day = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

export function daysText(days: number | null): string {
  if (days === null) return 'not launched';
  if (days < 1) return `${Math.max(0, Math.round(days * 24))} h`;
  return `${days.toFixed(days < 10 ? 1 : 0)} d`;
}
