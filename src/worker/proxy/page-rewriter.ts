/**
 * The streaming half of proxy mode: one HTMLRewriter per page that puts each slot's chosen
 * content in place as the origin's bytes pass through (no buffering, so the variant is in the
 * first HTML the browser receives and time to first byte stays the origin's), marks slots for
 * the snippet's impression and click tracking, and injects the bootstrap at the end of <head>
 * (after the page's <meta charset>, before any of its body scripts can call `attune.push`).
 */
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
}

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

function fillSlot(fill: SlotFill): HTMLRewriterElementContentHandlers {
  return {
    element(el) {
      el.setAttribute('data-attune-slot', fill.id);
      el.setAttribute('data-attune-decision', fill.decisionId);
      if (fill.variant !== null) el.setAttribute('data-attune-variant', fill.variant);
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
 * and the bootstrap does not go in the middle of it.
 */
export function pageRewriter(fills: readonly SlotFill[], bootstrap: string, rest?: PageRest): HTMLRewriter {
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
  for (const f of fills) rw = rw.on(f.selector, fillSlot(f));
  return rw.onDocument({
    end(end) {
      const appendRest = rest?.() ?? null;
      if (appendRest !== null) return appendRest(end);
      if (!injected) {
        injected = true;
        end.append(bootstrap, { html: true });
      }
    },
  });
}
