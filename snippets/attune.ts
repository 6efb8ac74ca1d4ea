/**
 * attune.js: the browser snippet. No dependencies; built by `npm run snippet:build` (esbuild,
 * minified) and served by the Worker at /attune.js. Budget: 3 KB minified + gzipped.
 *
 * - Proxy mode (the edge already rewrote the page and left `attune.boot`): only tracks.
 * - Snippet-only mode: asks /v1/decide for the page's `[data-attune-slot]` elements and swaps
 *   in the chosen `<template data-variant="…">`, and for `[data-attune-experiment="key"]`
 *   elements renders the visitor's arm of that test (text, HTML, a URL, JSON), hiding slots
 *   meanwhile for at most `data-timeout` ms (default 800) so a slow network never hides content
 *   for long. The signed profile /v1/decide returns is kept (localStorage, with consent) and sent
 *   back, so tests stay sticky per visitor without third-party cookies.
 * - Impressions when a slot is at least 50 % visible for 1 s (IAB), clicks on slot content,
 *   `attune('track', name, props)` / `attune.track(name, props)`, and analytics.js `track` calls
 *   (Segment; `data-segment="off"` to leave them out); batched and sent with sendBeacon (also on
 *   `pagehide`). Events from a test's slot name the test; a slot whose arm failed to render
 *   sends `render_error`.
 * - Privacy: Global Privacy Control or Do Not Track → no id and no events, ever. With
 *   `data-consent="required"`, no id and nothing sent until `attune.consent(true)`.
 * - `window.attune = window.attune || []; attune.push(['track', 'signup'])` works before load.
 * - Never throws into the host page: every entry point is wrapped.
 */

interface Boot {
  vid?: string;
  d?: [string, string | null, string][];
}
interface Dec {
  slot: string;
  variant: string | null;
  decisionId: string;
  experiment?: { exposed: boolean; payload: { type: string; value: unknown } };
}
type Ev = Record<string, unknown>;
type Call = [string, ...unknown[]];

((w: Window & { attune?: any; analytics?: any; doNotTrack?: string }, d: Document) => {
  const prior = w.attune;
  if (prior && prior.loaded) return; // the snippet is on the page twice
  const script = d.currentScript as HTMLScriptElement | null;
  const data = (script && script.dataset) || {};
  const boot: Boot | undefined = prior && prior.boot;
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean };
  const base = data.endpoint || (script && script.src ? new URL(script.src).origin : location.origin);
  const optedOut = nav.globalPrivacyControl === true || nav.doNotTrack === '1' || w.doNotTrack === '1';
  const KNOWN = ['impression', 'click', 'conversion', 'add_to_cart', 'purchase', 'goal', 'page'];
  const KEY = 'att_vid';
  const PKEY = 'att_p';
  // true: granted, false: refused, null: waiting for a consent call (events held in memory only)
  let consent: boolean | null = optedOut ? false : data.consent === 'required' ? null : true;
  let pending: Ev[] = [];
  let timer: ReturnType<typeof setTimeout> | 0 = 0;
  let vid: string | null = null;

  const noop = () => {};
  const safe =
    <A extends unknown[], R>(fn: (...a: A) => R) =>
    (...a: A): R | undefined => {
      try {
        return fn(...a);
      } catch {
        return undefined;
      }
    };
  const rid = (): string => {
    const b = crypto.getRandomValues(new Uint8Array(16));
    let s = '';
    for (let i = 0; i < 16; i++) s += (b[i]! + 256).toString(16).slice(1);
    return s;
  };
  const store = safe((v?: string | null, key: string = KEY): string | null => {
    if (v === undefined) return localStorage.getItem(key);
    if (v === null) localStorage.removeItem(key);
    else localStorage.setItem(key, v);
    return v;
  });

  /** The visitor id, created and stored only with consent. */
  const visitor = (): string | null => {
    if (consent !== true) return null;
    if (!vid) {
      const m = /(?:^|; )att_vid=([\w-]{8,64})/.exec(d.cookie);
      vid = (boot && boot.vid) || (m && m[1]) || store() || rid();
      store(vid);
    }
    return vid;
  };

  const send = () => {
    if (timer) clearTimeout(timer);
    timer = 0;
    if (consent !== true || !pending.length) return;
    const id = visitor();
    const batch = pending.splice(0, 50);
    let body: string;
    try {
      body = JSON.stringify({ events: batch.map((e) => ({ ...e, visitorId: id })) });
    } catch {
      return; // unserializable (cannot happen through track's filter): drop it rather than jam the queue
    }
    const url = base + '/v1/events';
    // text/plain keeps a cross-origin beacon a "simple" request: no CORS preflight
    if (!(nav.sendBeacon && nav.sendBeacon(url, new Blob([body], { type: 'text/plain' })))) {
      fetch(url, { method: 'POST', body, keepalive: true, credentials: 'omit', headers: { 'content-type': 'text/plain' } }).catch(noop);
    }
    if (pending.length) send();
  };

  /** `name` '' sends `ev` as it is (a Segment call). */
  const emit = (name: string, ev: Ev) => {
    if (consent === false) return;
    pending.push(name ? { id: rid(), name, ts: Date.now(), ...ev } : ev);
    if (pending.length > 200) pending.shift();
    if (consent && pending.length >= 20) send();
    else if (consent && !timer) timer = setTimeout(send, 2000);
  };

  const slotOf = (el: HTMLElement): Ev => {
    const s = el.dataset;
    return {
      decisionId: s.attuneDecision,
      slot: s.attuneSlot || s.attuneExperiment,
      variant: s.attuneVariant,
      experiment: s.attuneExperiment,
    };
  };
  const failed = (el: HTMLElement) => () => emit('render_error', slotOf(el));

  /** A test's arm into its slot: text, HTML, a URL (src, href, or an image), JSON (data-attune-payload). */
  const paint = (el: HTMLElement & { src?: string; href?: string }, p: { type: string; value: any }) => {
    const v = p.value;
    const t = el.tagName;
    try {
      if (p.type === 'html') el.innerHTML = v;
      else if (p.type === 'json') el.dataset.attunePayload = JSON.stringify(v);
      else if (p.type !== 'url') el.textContent = v;
      // http(s) only, as on writes: a stored javascript: or data: URL is reported, never followed
      else if (!/^https?:/i.test(v)) failed(el)();
      else if (/^(A|AREA)$/.test(t)) el.href = v;
      else {
        const img = /^(IMG|SOURCE|VIDEO|AUDIO|IFRAME|EMBED)$/.test(t) ? el : new Image();
        img.addEventListener('error', failed(el));
        img.src = v;
        if (img !== el) el.replaceChildren(img);
      }
    } catch {
      failed(el)();
    }
  };

  // IAB: at least half of the slot in view for one continuous second, once per slot element.
  const io =
    'IntersectionObserver' in w &&
    new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const el = e.target as HTMLElement & { _at?: ReturnType<typeof setTimeout> };
          if (e.intersectionRatio >= 0.5 && !el._at) {
            const share = e.intersectionRatio;
            el._at = setTimeout(() => {
              (io as IntersectionObserver).unobserve(el);
              emit('impression', { ...slotOf(el), viewable: { share: Math.round(share * 100) / 100, ms: 1000 } });
            }, 1000);
          } else if (e.intersectionRatio < 0.5 && el._at) {
            clearTimeout(el._at);
            el._at = undefined;
          }
        }
      },
      { threshold: [0, 0.5, 1] },
    );
  const watch = (el: Element) => io && io.observe(el);

  d.addEventListener(
    'click',
    safe((e: Event) => {
      const t = e.target as Element | null;
      const el = t && t.closest && (t.closest('[data-attune-decision]') as HTMLElement | null);
      if (!el) return;
      const item = t!.closest('[data-attune-item]') as HTMLElement | null;
      emit('click', { ...slotOf(el), ...(item ? { props: { item: item.dataset.attuneItem! } } : {}) });
    }),
    true,
  );
  for (const type of ['pagehide', 'visibilitychange']) {
    w.addEventListener(
      type,
      safe(() => {
        if (type === 'pagehide' || d.visibilityState === 'hidden') send();
      }),
    );
  }

  // `attune('track', 'purchase', {…})` and `attune.track('purchase', {…})` alike
  const api: any = (...call: unknown[]) => api.push(call);
  Object.assign(api, {
    loaded: true,
    boot,
    track: safe((name: string, props?: Record<string, unknown>) => {
      const { value, currency, decisionId, slot, variant, ...rest } = props || {};
      const known = KNOWN.indexOf(name) >= 0;
      // events carry flat scalars only: anything else (objects, cycles, functions) is dropped here
      const flat: Record<string, unknown> = {};
      let n = 0;
      for (const k in rest) {
        const v = rest[k];
        if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && isFinite(v))) {
          flat[k] = v;
          n++;
        }
      }
      emit(known ? name : 'goal', {
        ...(known ? {} : { goal: String(name) }),
        value,
        currency,
        decisionId,
        slot,
        variant,
        ...(n ? { props: flat } : {}),
      });
    }),
    /** `consent(true)` allows an id and events; `consent(false)` drops them and forgets the id. */
    consent: safe((granted: boolean) => {
      if (optedOut) return;
      consent = !!granted;
      if (consent) send();
      else {
        pending = [];
        vid = null;
        store(null);
        store(null, PKEY);
      }
    }),
    flush: safe(send),
    push: safe((call: Call) => {
      const fn = api[call[0]];
      if (typeof fn === 'function') fn(...[].slice.call(call, 1));
    }),
  });

  const reveal = safe(() => {
    const af = d.getElementById('attune-af');
    if (af) af.remove();
  });

  const SLOTS = '[data-attune-slot],[data-attune-experiment]';
  const decide = safe(() => {
    const els = d.querySelectorAll<HTMLElement>(SLOTS);
    if (!els.length) return reveal();
    const slots = Array.prototype.map.call(els, (el: HTMLElement) => {
      const s = el.dataset;
      const id = s.attuneSlot || s.attuneExperiment;
      const names = Array.prototype.map.call(
        el.querySelectorAll('template[data-variant]'),
        (t: HTMLElement) => t.dataset.variant,
      ) as string[];
      return s.attuneExperiment
        ? { id, experiment: s.attuneExperiment }
        : s.attuneModel
          ? { id, model: s.attuneModel }
          : { id, candidates: s.attuneCandidates ? s.attuneCandidates.split(',') : ['control', ...names] };
    });
    const id = visitor();
    fetch(base + '/v1/decide', {
      method: 'POST',
      credentials: 'omit',
      headers: { 'content-type': 'application/json' },
      // without consent the page is still decided, but the server keeps no record of it
      body: JSON.stringify({
        ...(id ? { visitorId: id, profile: store(undefined, PKEY) || '' } : {}),
        ...(consent !== true ? { track: false } : {}),
        page: { url: location.href, referrer: d.referrer || undefined },
        slots,
      }),
    })
      .then((r) => r.json())
      .then(
        safe((res: { profile?: string; decisions?: Dec[] }) => {
          if (res.profile && consent) store(res.profile, PKEY);
          for (const dec of res.decisions || []) {
            for (const el of Array.prototype.slice.call(els) as HTMLElement[]) {
              const s = el.dataset;
              if ((s.attuneSlot || s.attuneExperiment) !== dec.slot) continue;
              const x = dec.experiment;
              // compared, not put into a selector: a variant name with a quote must not stop the page's other slots
              const tpl =
                dec.variant && !x
                  ? (Array.prototype.find.call(
                      el.querySelectorAll('template[data-variant]'),
                      (t: HTMLTemplateElement) => t.dataset.variant === dec.variant,
                    ) as HTMLTemplateElement | undefined)
                  : undefined;
              if (tpl) el.replaceChildren(tpl.content.cloneNode(true));
              if (x) {
                if (!x.exposed) delete s.attuneExperiment; // outside the test: its events are no test's
                paint(el, x.payload);
              }
              el.dataset.attuneDecision = dec.decisionId;
              if (dec.variant) el.dataset.attuneVariant = dec.variant;
              watch(el);
            }
          }
        }),
      )
      .catch(noop)
      .finally(reveal);
  });

  try {
    // calls made before load: `attune = attune || []` pushes arrays, a function stub keeps `q`
    const queued: Call[] = Array.isArray(prior) ? prior : (prior && prior.q) || [];
    w.attune = api;
    for (const call of queued) api.push(call);
    const seg = w.analytics;
    if (data.segment !== 'off' && seg && seg.on)
      seg.on(
        'track',
        safe((event: string, properties?: Ev) =>
          // a Segment call as /v1/events maps it (Order Completed → purchase …), under this visitor
          emit('', { type: 'track', event, properties: JSON.parse(JSON.stringify(properties || {})), messageId: rid() }),
        ),
      );
    if (!boot && d.getElementById('attune-af') === null) {
      // snippet-only mode without the host's own guard: hide slots until decided
      const st = d.createElement('style');
      st.id = 'attune-af';
      st.textContent = SLOTS + '{visibility:hidden}';
      d.head.appendChild(st);
    }
    if (!boot) setTimeout(reveal, Number(data.timeout) || 800);
    const start = safe(() => {
      if (boot) {
        for (const [, , decisionId] of boot.d || []) {
          const el = d.querySelector(`[data-attune-decision="${decisionId}"]`);
          if (el) watch(el);
        }
      } else decide();
    });
    if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', start);
    else start();
  } catch {
    reveal();
  }
})(window, document);
