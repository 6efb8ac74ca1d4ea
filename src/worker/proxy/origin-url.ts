/**
 * URLs between the public host and the origin in proxy mode, built from parts. The upstream URL
 * is `ORIGIN_URL`'s scheme, host and port, its base path, then the request's path and query as
 * opaque text. No string a visitor sends is ever resolved against a base: there `//host`,
 * `///host` or `/\host` names another server, which made the proxy an open one that handed that
 * server the site's cookies and `Authorization` and served its answer as the site's own.
 * Paths that could still be read as another host, or as climbing out of the base path, by the
 * origin or by a server behind it that decodes more than it should, are refused (a 400).
 */

export interface OriginBase {
  /** `scheme://host[:port]`, as `URL.origin` writes it */
  readonly origin: string;
  /** the base path without trailing slashes; '' at the root */
  readonly prefix: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; rule: string };

/** `ORIGIN_URL` as proxy mode accepts it: http(s), no credentials, no query or fragment. */
export function parseOriginUrl(raw: string): Checked<OriginBase> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, rule: 'ORIGIN_URL must be an absolute http:// or https:// URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, rule: 'ORIGIN_URL must be http:// or https://' };
  // credentials would go to the origin on every request, and show in every log of the URL
  if (url.username !== '' || url.password !== '') return { ok: false, rule: 'ORIGIN_URL must not carry credentials (user:pass@)' };
  if (raw.includes('?') || raw.includes('#')) return { ok: false, rule: 'ORIGIN_URL must not have a query or fragment' };
  return { ok: true, value: { origin: url.origin, prefix: url.pathname.replace(/\/+$/, '') } };
}

/** `//`, `/\` and their percent-encoded forms: a host to URL parsers, and to origins that decode first. */
const HOST_LIKE = /^\/(?:\/|\\|%2f|%5c)/i;
/** raw (cannot survive the runtime's parser, checked all the same) or percent-encoded C0 controls and DEL */
const CONTROL = /[\x00-\x1f\x7f]|%(?:[01][0-9a-f]|7f)/i;
const SEPARATOR = /\/|\\|%2f|%5c/i;

/**
 * Whether a segment is `.` or `..`, once encoded slashes split it and `%2e` is a dot, and
 * without `;params` (Tomcat reads `/..;/` as `/../`). The runtime's parser has already resolved
 * the plain forms; these are the ones an origin could still resolve past the base path.
 */
function hasDotSegment(path: string): boolean {
  if (path.indexOf('.') === -1 && path.indexOf('%') === -1) return false; // nearly every path
  for (const raw of path.split(SEPARATOR)) {
    const seg = raw.replace(/%2e/gi, '.').split(';', 1)[0];
    if (seg === '.' || seg === '..') return true;
  }
  return false;
}

/** Why the request path cannot go to the origin, or null when it can. */
export function pathRuleBroken(path: string): string | null {
  if (path.charCodeAt(0) !== 47) return 'path must start with "/"';
  if (HOST_LIKE.test(path)) return 'path must not start with "//" or "/\\" (also percent-encoded): that names another host';
  if (CONTROL.test(path)) return 'path must not hold control characters (also percent-encoded)';
  if (hasDotSegment(path)) return 'path must not have "." or ".." segments (also with encoded dots or slashes)';
  return null;
}

/**
 * The origin URL of a request: the origin's scheme, host and port, then its base path, the
 * request's path and its query, each set as a part. Whatever the path holds it cannot move the
 * host; the result is checked against the origin all the same.
 */
export function upstreamUrl(base: OriginBase, path: string, search: string): Checked<URL> {
  const broken = pathRuleBroken(path);
  if (broken !== null) return { ok: false, rule: broken };
  const url = new URL(base.origin);
  url.pathname = base.prefix + path;
  url.search = search;
  if (url.origin !== base.origin || !url.pathname.startsWith(`${base.prefix}/`)) return { ok: false, rule: 'path must stay on the origin' };
  return { ok: true, value: url };
}

/**
 * A redirect's `Location` as the public host should send it. One on the origin under its base
 * path becomes the same path on the public host, absolute (so no `//x` or `/\x` in it can be
 * read as a host); one on the origin outside the base path, which the proxy does not serve,
 * becomes the origin's own absolute URL (left relative, the browser would ask the public host
 * for it). null, for another host or an unparsable value: it passes through as the origin sent
 * it. Relative values resolve against the URL the origin answered, as a browser would.
 */
export function publicLocation(location: string, upstream: URL, base: OriginBase, publicOrigin: string): string | null {
  let target: URL;
  let out: URL;
  try {
    target = new URL(location, upstream);
    out = new URL(publicOrigin);
  } catch {
    return null;
  }
  if (target.origin !== base.origin) return null;
  const path = target.pathname;
  if (base.prefix !== '' && path !== base.prefix && !path.startsWith(`${base.prefix}/`)) return target.href;
  out.pathname = path.slice(base.prefix.length) || '/';
  out.search = target.search;
  out.hash = target.hash;
  return out.origin === publicOrigin ? out.href : null;
}
