/**
 * The admin pages' shell (/ui/experiments, /ui/campaigns): one stylesheet and one page frame,
 * server-rendered with hono/html, no client script.
 */
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export const ADMIN_STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#111827;background:#f9fafb}
main{max-width:980px;margin:0 auto;padding:24px}h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid #e5e7eb;padding:6px 8px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.badge{display:inline-block;padding:1px 8px;border-radius:9px;background:#e5e7eb;font-size:12px}
.running,.active{background:#dcfce7}.paused{background:#fef9c3}.stopped{background:#fee2e2}.error{background:#fee2e2;border:1px solid #fca5a5;padding:8px 12px}
form.inline{display:inline-block;margin-right:6px}label{display:block;margin:8px 0 2px;font-weight:600}input,select,textarea{font:inherit;padding:4px 6px}
textarea{width:100%;min-height:70px}fieldset{border:1px solid #e5e7eb;background:#fff;padding:12px 16px}button{font:inherit;padding:4px 12px;cursor:pointer}`;

/** A full admin page; `section` names the pages' family in the title (`experiments`, `campaigns`). */
export function adminPage(
  section: string,
  title: string,
  body: HtmlEscapedString | Promise<HtmlEscapedString>,
  refresh = false,
  style = '',
) {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${refresh ? raw('<meta http-equiv="refresh" content="5">') : ''}<title>${title} · attune ${section}</title><style>${raw(ADMIN_STYLE + style)}</style></head>
<body><main>${body}</main></body></html>`;
}

/** The login form of the page at `base`. */
export function loginForm(base: string) {
  return html`<h1>Sign in</h1><form method="post" action="${base}/login">
<label for="token">Admin token</label><input id="token" name="token" type="password" required autocomplete="current-password"> <button type="submit">Sign in</button></form>`;
}

/** The login page after a refused sign-in (admin-sign-in.ts): wrong token, or too many tries. */
export function loginRefusal(base: string, refused: { readonly status: number; readonly message: string }) {
  return html`<h1>Sign in</h1><p class="error" role="alert">${refused.message}</p>${refused.status === 401 ? html`<p><a href="${base}/login">try again</a></p>` : ''}`;
}
