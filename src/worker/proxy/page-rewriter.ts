/**
 * The streaming half of proxy mode: one HTMLRewriter per page that puts each slot's chosen
 * content in place as the origin's bytes pass through (no buffering, so the variant is in the
 * first HTML the browser receives and time to first byte stays the origin's), marks slots for
 * the snippet's impression and click tracking, and injects the bootstrap at the end of <head>
 * (after the page's <meta charset>, before any of its body scripts can call `attune.push`).
 *
 * A test's arm renders by its payload type: text and HTML as the slot's content; a URL as the
 * `src` of a media element or frame, the `href` of a link, else an image inside the slot; JSON in
 * `data-attune-payload` (and as the content of a `<script>` slot, for the page's own code).
 */
import type { ExperimentInfo } from '../experiments/decide-experiment.ts';
import { escapeHtml, safeUrl } from './item-template.ts';
import type { PageRest } from './page-stream.ts';
import type { VariantContent } from './page-rules.ts';

export interface SlotFill {
  readonly id: string;
  readonly selector: string;
  readonly decisionId: string;
  readonly variant: string | null;
  /** the variant's content; undefined keeps the origin's markup (the control) */
  readonly content?: VariantContent | undefined;
  /** rendered recommendation items, replacing the slot's inner HTML */
  readonly html?: string | undefined;
  /** a test's arm: its payload, and the test's key when this decision is an exposure */
  readonly arm?: { readonly payload: ExperimentInfo['payload']; readonly experiment?: string } | undefined;
}

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);
const SRC = new Set(['img', 'source', 'video', 'audio', 'iframe', 'embed', 'track']);
const HREF = new Set(['a', 'area', 'link']);

function renderPayload(el: Element, payload: ExperimentInfo['payload']): void {
  const value = payload.value;
  switch (payload.type) {
    case 'text':
      if (!VOID.has(el.tagName)) el.setInnerContent(String(value));
      return;
    case 'html':
      if (!VOID.has(el.tagName)) el.setInnerContent(String(value), { html: true });
      return;
    case 'url': {
      const url = String(value);
      if (!safeUrl(url)) return; // the config schema refuses these; a hand-written KV value keeps the origin's markup
      if (SRC.has(el.tagName)) el.setAttribute('src', url);
      else if (HREF.has(el.tagName)) el.setAttribute('href', url);
      else if (!VOID.has(el.tagName)) el.setInnerContent(`<img src="${escapeHtml(url)}" alt="">`, { html: true });
      return;
    }
    case 'json':
      el.setAttribute('data-attune-payload', JSON.stringify(value));
      if (el.tagName === 'script') el.setInnerContent(scriptJson(value), { html: true });
  }
}

function fillSlot(fill: SlotFill, found: Set<string>): HTMLRewriterElementContentHandlers {
  return {
    element(el) {
      found.add(fill.id);
      el.setAttribute('data-attune-slot', fill.id);
      el.setAttribute('data-attune-decision', fill.decisionId);
      if (fill.variant !== null) el.setAttribute('data-attune-variant', fill.variant);
      if (fill.arm !== undefined) {
        if (fill.arm.experiment !== undefined) el.setAttribute('data-attune-experiment', fill.arm.experiment);
        renderPayload(el, fill.arm.payload);
        return;
      }
      const c = fill.content;
      if (c?.attrs) for (const name in c.attrs) el.setAttribute(name, c.attrs[name]!);
      // void elements (<img>, <input>) take attributes only
      if (VOID.has(el.tagName)) return;
      if (fill.html !== undefined) el.setInnerContent(fill.html, { html: true });
      else if (c?.html !== undefined) el.setInnerContent(c.html, { html: true });
      else if (c?.text !== undefined) el.setInnerContent(c.text);
    },
  };
}

/** JSON that is safe inside an inline <script>: no `</script>`, no line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function bootstrapHtml(boot: unknown, snippetSrc: string, nonce: string | null): string {
  const n = nonce === null ? '' : ` nonce="${nonce}"`;
  return `<script${n}>(window.attune=window.attune||[]).boot=${scriptJson(boot)}</script><script src="${snippetSrc}" async${n}></script>`;
}

/**
 * Fills every slot and injects `bootstrap` once: at the end of <head>, else at the top of
 * <body>, else at the end of the document (fragments without either). `rest()` says, at the end
 * of the rewriter's input, whether that is the page's end: if not (page-stream.ts stopped
 * rewriting a page too large to rewrite whole), it appends the rest of the page there, untouched,
 * and the bootstrap does not go in the middle of it. `onEnd` runs at the rewriter's end, with the
 * ids of the slots the rewritten part of the page had.
 */
export function pageRewriter(
  fills: readonly SlotFill[],
  bootstrap: string,
  rest?: PageRest,
  onEnd?: (found: ReadonlySet<string>) => void,
): HTMLRewriter {
  const found = new Set<string>();
  let injected = false;
  const atHeadEnd = {
    element(el: Element) {
      if (!injected) {
        injected = true;
        el.append(bootstrap, { html: true });
      }
    },
  };
  const atBodyStart = {
    element(el: Element) {
      if (!injected) {
        injected = true;
        el.prepend(bootstrap, { html: true });
      }
    },
  };
  let rw = new HTMLRewriter().on('head', atHeadEnd).on('body', atBodyStart);
  for (const f of fills) rw = rw.on(f.selector, fillSlot(f, found));
  return rw.onDocument({
    end(end) {
      onEnd?.(found);
      const appendRest = rest?.() ?? null;
      if (appendRest !== null) return appendRest(end);
      if (!injected) {
        injected = true;
        end.append(bootstrap, { html: true });
      }
    },
  });
}
