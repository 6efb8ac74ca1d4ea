/**
 * Lets the inline bootstrap and the snippet run under the origin's Content-Security-Policy
 * without loosening it for anything else: a per-response nonce is added to the directive that
 * governs scripts, and `'self'` to the one that governs fetch/beacon (`connect-src`) so the
 * snippet can report to this host. When only `default-src` governs them, an explicit
 * `script-src` / `connect-src` is added with default-src's sources plus ours, so images,
 * styles and the rest stay exactly as strict as before.
 *
 * One exception: a script directive that allows `'unsafe-inline'` with no nonce, hash or
 * `'strict-dynamic'` gets no nonce, because a nonce makes browsers ignore `'unsafe-inline'`
 * and would break the origin's own inline scripts; it gets `'self'` for the snippet file.
 */

type Directive = string[];

function parse(policy: string): Directive[] {
  return policy
    .split(';')
    .map((d) => d.trim().split(/\s+/).filter(Boolean))
    .filter((d) => d.length > 0);
}

const named = (ds: Directive[], name: string) => ds.find((d) => d[0]!.toLowerCase() === name);
const allowsSelf = (d: Directive) => d.some((s) => s === "'self'" || s === '*');

/** The directive governing `name`, creating it from default-src when only that governs. */
function governing(ds: Directive[], name: string, fallbacks: readonly string[]): Directive | undefined {
  const own = named(ds, name);
  if (own) return own;
  for (const f of fallbacks) {
    const d = named(ds, f);
    if (d) {
      const copy = [name, ...d.slice(1)];
      ds.push(copy);
      return copy;
    }
  }
  return undefined;
}

function add(d: Directive, source: string): void {
  const none = d.findIndex((s) => s.toLowerCase() === "'none'");
  if (none > 0) d.splice(none, 1); // 'none' cannot stand beside a source
  if (!d.includes(source)) d.push(source);
}

/** `nonce`: whether the inline tags must carry the nonce under this policy. */
export function allowBootstrap(policy: string, nonce: string): { policy: string; nonce: boolean } {
  const ds = parse(policy);
  let useNonce = false;
  // script-src-elem, when present, is what governs <script> elements
  const script = named(ds, 'script-src-elem') ?? governing(ds, 'script-src', ['default-src']);
  if (script) {
    const sources = script.slice(1).map((s) => s.toLowerCase());
    const inlineOnly =
      sources.includes("'unsafe-inline'") &&
      !sources.some((s) => s.startsWith("'nonce-") || s.startsWith("'sha") || s === "'strict-dynamic'");
    if (inlineOnly) {
      if (!allowsSelf(script)) add(script, "'self'");
    } else {
      add(script, `'nonce-${nonce}'`);
      useNonce = true;
    }
  }
  const connect = named(ds, 'connect-src') ?? named(ds, 'default-src');
  if (connect && !allowsSelf(connect)) add(governing(ds, 'connect-src', ['default-src'])!, "'self'");
  return { policy: ds.map((d) => d.join(' ')).join('; '), nonce: useNonce };
}

/** Rewrites every CSP header (enforced and report-only) in place; true when a nonce is needed. */
export function rewriteCsp(headers: Headers, nonce: string): boolean {
  let needsNonce = false;
  for (const name of ['content-security-policy', 'content-security-policy-report-only']) {
    const value = headers.get(name);
    if (value === null) continue;
    // several policies arrive comma-joined; each is enforced on its own, so each gets our sources
    const out = value.split(',').map((p) => allowBootstrap(p, nonce));
    if (out.some((o) => o.nonce)) needsNonce = true;
    headers.set(name, out.map((o) => o.policy).join(', '));
  }
  return needsNonce;
}
