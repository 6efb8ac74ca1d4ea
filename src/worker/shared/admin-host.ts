/**
 * Where the admin pages (`/ui/experiments`, `/ui/campaigns`) answer. Its session cookie makes it act for the admin,
 * so no script of anyone else's may ever run on its origin: in proxy mode the site's own pages
 * (and every third-party tag on them) are served from the Worker's hosts, and from there a
 * `fetch('/ui/experiments/x/pause', { method: 'POST' })` would carry the admin's cookie.
 *
 * - `ADMIN_HOST` set (comma-separated host names): the page answers on those hosts only, and
 *   those hosts are never proxied (app.ts), so the admin's origin serves no site page.
 * - `ADMIN_HOST` unset, proxy mode off (`ORIGIN_URL` empty): the page answers on any host; the
 *   Worker serves no pages but its own (the win notice's ad markup is sandboxed: notice-routes.ts).
 * - `ADMIN_HOST` unset, proxy mode on: the page answers nowhere (404). `npm start` sets
 *   `ADMIN_HOST=admin.localhost` (browsers resolve `*.localhost` to this machine), so locally the
 *   demo sites are on `127.0.0.1` and `localhost` and the admin page on `admin.localhost`.
 *
 * Proxy mode counts as on whenever ORIGIN_URL is set, even to a value proxy/origin.ts refuses.
 */
import { settings, type SettingsEnv } from './settings.ts';

type HostEnv = SettingsEnv & { readonly ORIGIN_URL?: string | undefined };

/** Whether `hostname` is one of ADMIN_HOST's (then it is not proxied). */
export function isAdminHost(env: HostEnv, hostname: string): boolean {
  const hosts = settings(env).adminHosts;
  return hosts.length > 0 && hosts.includes(hostname.toLowerCase());
}

/** Whether the admin page answers on `hostname` (the rules above). */
export function adminPageAllowed(env: HostEnv, hostname: string): boolean {
  if (settings(env).adminHosts.length > 0) return isAdminHost(env, hostname);
  return !env.ORIGIN_URL?.trim();
}
