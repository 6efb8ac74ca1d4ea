/**
 * Proxy mode: with `ORIGIN_URL` set, every request the API does not answer goes to the
 * origin. A `GET` for a page that matches a page rule and comes back as a whole, successful
 * HTML document is personalized as it streams: one decision call covers all of the page's
 * slots (started while the origin is still answering), the chosen variants are written into
 * the markup, and the page carries the decision ids, the snippet tag and the visitor cookies.
 * Everything else (HEAD, other methods, ranges, redirects, errors, non-HTML, pages no rule
 * names) passes through untouched, headers and caching included.
 *
 * A personalized page is `private, no-store`: it must never be stored in a shared cache.
 * With `Sec-GPC: 1` or `DNT: 1` the page is personalized from the request alone: no visitor
 * cookie, no logged decision.
 * A decision failure never takes the page down: the origin's page is served as it is, and
 * `x-attune-fallback` says why.
 */
import { decideSlots, preloadSlotModels, type Decided } from '../decide/decide-slots.ts';
import { isApiPath, isOwnCredential } from './never-forwarded.ts';
import { guardedPage } from './page-stream.ts';
import { rewriteCsp } from './csp.ts';
import { logRecords } from '../log/log-producer.ts';
import { errorBody } from '../shared/http-error.ts';
import { cachedPage, cacheKey, carriesSiteCookies, storePage, usesCache } from './origin-cache.ts';
import { fetchOrigin, originConfig, originFailure } from './origin.ts';
import { upstreamUrl } from './origin-url.ts';
import { bootstrapHtml, pageRewriter, type SlotFill } from './page-rewriter.ts';
import { decideRequestOf, matchPage, pageRules, slotSelector, type PageRule, type PageRules } from './page-rules.ts';
import { renderItems } from './item-template.ts';
import { recommendItems } from './recommend-slot.ts';
import { recommendationRecord } from '../recommend/recommender.ts';
import { snippetUrl } from '../snippet/snippet-url.ts';
import type { AppContext } from '../shared/types.ts';
import { storeOptions } from '../shared/settings.ts';
import { beginVisit, finishVisit, optedOut } from '../visitor/visit.ts';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { DecisionRecord } from '../../core/decision-record.ts';
import { log } from '../shared/log.ts';
import { kvOf } from '../shared/bindings.ts';

const HTML = /^\s*(?:text\/html|application\/xhtml\+xml)\s*(?:;|$)/i;

/** Only a complete, successful HTML document is rewritten. */
function rewritable(res: Response): boolean {
  return res.status === 200 && res.body !== null && HTML.test(res.headers.get('content-type') ?? '') && !res.headers.has('content-range');
}

interface PagePlan {
  readonly fills: SlotFill[];
  readonly boot: { vid?: string; d: [string, string | null, string][] };
  readonly fallbacks: string[];
  readonly records: DecisionRecord[];
  readonly finish: () => void;
}

/** The decision half: visitor, context, one decision for every variant slot, recommendation items. */
async function planPage(c: AppContext, url: URL, rule: PageRule, rules: PageRules): Promise<PagePlan> {
  const referrer = c.req.header('referer');
  const variantSlots = rule.slots.filter((s) => s.recommend === undefined);
  const requests = variantSlots
    .map(decideRequestOf)
    .filter((r) => r.model !== undefined || r.experiment !== undefined || (r.candidates?.length ?? 0) > 0);
  preloadSlotModels(c.env, requests, storeOptions(c, Date.now())); // a cold model's reads overlap the visit's
  const visit = await beginVisit(c, { page: { url: url.href, referrer, pageType: rule.pageType } }, true);
  const decided =
    requests.length > 0 ? await decideSlots(c, visit, requests, true) : { decisions: [] as Decided[], fallbacks: [], records: [] };
  const byId = new Map(decided.decisions.map((d) => [d.slot, d]));
  const fills: SlotFill[] = [];
  const records = [...decided.records];
  const fallbacks = [...decided.fallbacks];
  for (const slot of rule.slots) {
    if (slot.recommend !== undefined) {
      const rec = await recommendItems(c, visit, slot, rules);
      const id = crypto.randomUUID();
      records.push(recommendationRecord(visit, slot.id, id, { ...rec, ids: rec.items.map((i) => String(i.id ?? '')) }));
      if (rec.fallback) fallbacks.push(`${slot.id}=${rec.fallback}`);
      fills.push({
        id: slot.id,
        selector: slotSelector(slot),
        decisionId: id,
        variant: null,
        html: renderItems(slot.recommend.template, rec.items),
      });
      continue;
    }
    const d = byId.get(slot.id);
    if (!d) continue;
    const x = d.experiment;
    // a test that serves its control or winner to everybody says so, as a missing one does
    if (x && !x.exposed && (x.reason === 'paused' || x.reason === 'stopped' || x.reason === 'draft' || x.reason === 'archived'))
      fallbacks.push(`${slot.id}=${x.reason}`);
    fills.push({
      id: slot.id,
      selector: slotSelector(slot),
      decisionId: d.decisionId,
      variant: d.variant,
      content: d.variant === null || x ? undefined : slot.variants?.[d.variant],
      arm: x ? { payload: x.payload, ...(x.exposed ? { experiment: x.key } : {}) } : undefined,
    });
  }
  return {
    fills,
    fallbacks,
    records,
    boot: { vid: visit.visitor.id, d: fills.map((f) => [f.id, f.variant, f.decisionId]) },
    finish: () => finishVisit(c, visit),
  };
}

/**
 * What HTMLRewriter can take whole (page-stream.ts): a page whose Content-Length says more is
 * passed through untouched; one of unknown length is rewritten up to the bound, the rest passed.
 */
const MAX_PAGE_BYTES = 2 * 1024 * 1024;
/** what the rest of such a page may hold: it is held in memory until it is all in */
const MAX_REST_BYTES = 32 * 1024 * 1024;
/** elements open at once that the rewriter is given (it fails past ~16,000) */
const MAX_OPEN_ELEMENTS = 12_000;
/** a personalized page's whole body, in ORIGIN_TIMEOUT_MS (60 s at the default 10 s) */
const BODY_DEADLINE_FACTOR = 6;

function personalized(c: AppContext, res: Response, plan: PagePlan, timeoutMs: number, abort: () => void): Response {
  const headers = new Headers(res.headers);
  // the body changes per visitor: validators and lengths of the origin's bytes no longer hold
  for (const h of ['content-length', 'etag', 'last-modified', 'content-md5', 'accept-ranges']) headers.delete(h);
  headers.set('cache-control', 'private, no-store');
  const vary = headers.get('vary');
  if (vary === null) headers.set('vary', 'Cookie');
  else if (!/(^|,)\s*(cookie|\*)\s*(,|$)/i.test(vary)) headers.set('vary', `${vary}, Cookie`);
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const hasCsp = rewriteCsp(headers, nonce);
  if (plan.fallbacks.length > 0) headers.set('x-attune-fallback', plan.fallbacks.join(', '));
  // absolute: a relative src would resolve against the page's own <base href> (a CDN, say), and
  // the snippet would load from, and send visitors' decisions and events to, that host
  const boot = bootstrapHtml(plan.boot, `${new URL(c.req.url).origin}${snippetUrl()}`, hasCsp ? nonce : null);
  // Decision records are queued once the page has streamed out, so neither the first byte nor
  // the stream waits behind the queue send (bench/http/proxy.bench.mjs), and a page the origin
  // never finished sending logs no decision.
  // A test's slot the page did not have showed nobody the arm: logged, but not as an exposure.
  // Logged once both are known: the page complete (onComplete) and the slots it had (the rewriter's end).
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
  let found: ReadonlySet<string> | null = null;
  let complete = false;
  const flush = () => {
    if (found === null || !complete) return;
    const seen = found;
    logRecords(
      c.env.EVENTS,
      plan.records.map((r) => (r.experiment === undefined || seen.has(r.slot) ? r : notShown(r))),
      waitUntil,
    );
  };
  const onEnd = (f: ReadonlySet<string>) => {
    found = f;
    flush();
  };
  const body = guardedPage(res.body!, headers, (rest) => pageRewriter(plan.fills, boot, rest, onEnd), {
    idleMs: timeoutMs,
    deadlineMs: timeoutMs * BODY_DEADLINE_FACTOR,
    maxBytes: MAX_PAGE_BYTES,
    maxOpen: MAX_OPEN_ELEMENTS,
    maxRestBytes: MAX_REST_BYTES,
    utf8: !/;\s*charset\s*=\s*"?(?!utf-?8\b)/i.test(headers.get('content-type') ?? ''),
    path: new URL(c.req.url).pathname,
    abort,
    onComplete: () => {
      complete = true;
      flush();
    },
  });
  // c.body merges in the visitor cookies finishVisit set, after the origin's own Set-Cookie
  return c.newResponse(body, { status: res.status as ContentfulStatusCode, headers });
}

/** The origin's page as it is, saying why it was not personalized. */
function unpersonalized(res: Response, reason: string): Response {
  const out = new Response(res.body, res);
  out.headers.set('x-attune-fallback', reason);
  return out;
}

function notShown(r: DecisionRecord): DecisionRecord {
  const { experiment: _, noProfile: __, ...rest } = r;
  return { ...rest, fallback: 'slotNotFound' };
}

/** The proxied response, or null when proxy mode is off or the path belongs to the API. */
export async function proxyRequest(c: AppContext): Promise<Response | null> {
  const cfg = originConfig(c.env);
  if (cfg === null) return null;
  const url = new URL(c.req.url);
  if (isApiPath(url.pathname)) return null; // also as /Admin/…, /admin%2f…: a 404, never the origin (never-forwarded.ts)
  // Built from parts and checked before anything else looks at the request (origin-url.ts).
  const target = upstreamUrl(cfg.base, url.pathname, url.search);
  if (!target.ok) return c.json(errorBody('invalid_request', target.rule, 'path'), 400);
  const req = c.req.raw;

  let rules: PageRules | null = null;
  let rule: PageRule | undefined;
  if (req.method === 'GET' && !req.headers.has('range')) {
    rules = await pageRules(kvOf(c.env), storeOptions(c, Date.now()));
    rule = matchPage(rules, url.pathname);
  }
  const plan = () =>
    planPage(c, url, rule!, rules!).then(
      (p) => ({ ok: true as const, p }),
      (err: unknown) => ({ ok: false as const, err }),
    );
  // A browser navigation (Accept: text/html) is decided while the origin is still answering, so
  // the decision costs no time to first byte; other clients are decided once HTML comes back.
  const eager = rule !== undefined && (req.headers.get('accept') ?? '').includes('text/html') ? plan() : null;
  // Pages a rule personalizes may come from the edge cache: the origin's shareable HTML, keyed
  // by this public host and the origin URL (origin-cache.ts).
  const withCookies = carriesSiteCookies(req);
  const key = rule !== undefined && usesCache(req) ? cacheKey(target.value, url.origin) : null;
  const hit = key ? await cachedPage(key, withCookies) : undefined;
  let res: Response;
  let abort = () => {};
  if (hit) res = hit;
  else {
    const auth = req.headers.get('authorization');
    const origin = await fetchOrigin(cfg, req, target.value, auth !== null && isOwnCredential(c.env, auth));
    if (!origin.ok) {
      log.error('origin failed', { reason: origin.reason, path: url.pathname, error: origin.error });
      return originFailure(origin.reason);
    }
    res = origin.response;
    abort = origin.abort;
    if (key && rewritable(res)) res = storePage(key, res, (p) => c.executionCtx.waitUntil(p), withCookies);
  }
  if (rule === undefined || !rewritable(res)) return res;
  if (Number(res.headers.get('content-length')) > MAX_PAGE_BYTES) return unpersonalized(res, 'page=tooLarge');
  c.header('x-attune-origin-cache', hit ? 'hit' : key ? 'miss' : 'bypass');
  const planned = await (eager ?? plan());
  if (!planned.ok) {
    log.error('page not personalized', { path: url.pathname, error: String(planned.err) });
    return unpersonalized(res, 'page=decisionFailed');
  }
  // Global Privacy Control / Do Not Track: the page is still personalized from this request's
  // context, but no visitor cookie is set and no decision is logged (nothing to join it to).
  const optOut = optedOut(req);
  if (!optOut) planned.p.finish();
  const p = optOut ? { ...planned.p, records: [], boot: { d: planned.p.boot.d } } : planned.p;
  return personalized(c, res, p, cfg.timeoutMs, abort);
}
