/**
 * The body of a personalized page: the origin's bytes through the HTMLRewriter to the visitor,
 * with the guards a streamed rewrite needs. Pass-through responses get none of this: the runtime
 * streams their bodies without JavaScript touching a byte (a JS read loop there cost ~10× the CPU
 * per byte of a bare `fetch`), and an origin that stalls one simply stalls the download, as it
 * would without the proxy.
 * - Idle: a wait on the origin for its next chunk longer than `idleMs` cuts the page off. Only
 *   waits on the origin are timed (a visitor that reads slowly starts no clock), and with one timer
 *   per idle period, not one per chunk: each read only stamps the time it started.
 * - Deadline: the whole body within `deadlineMs`, so an origin that trickles a byte now and then,
 *   under the idle gap, cannot hold the page (and the Worker) open for ever.
 * A cut-off page errors (the browser sees a failed load, not a page that looks whole; no cache
 * keeps it), the origin fetch is aborted and the cut is logged with the path.
 * - Size: HTMLRewriter gives up ("memory limit exceeded") on a tag buffered across more than
 *   ~2–3 MB, or on ~16,000 elements open at once (unclosed `<li>`, `<td>` or `<p>` by the
 *   thousand do it), and a failed rewrite loses the rest of the page. So the rewriter reads at most
 *   `maxBytes` and at most `maxOpen` (estimated) open elements; past either, its input ends there
 *   (a tag cut in two comes out as it came) and the rest of the origin's bytes follow untouched,
 *   appended at the rewriter's document end: the page arrives whole, only slots past that point
 *   keep the origin's markup. The headers are gone by then, so this is said in the log, not in
 *   `x-attune-fallback`. The rewriter's output stays the runtime's own stream (a JavaScript stream
 *   after it, to join the two parts, cost ~40 % more CPU per page), so the rest is held until the
 *   origin has sent it all (at most `maxRestBytes`) and goes out as text: only for UTF-8 pages
 *   (the default), and the rewriter's input is cut between characters. Pages in other encodings
 *   are rewritten whole, as before.
 */
import { log } from '../shared/log.ts';

export interface PageGuard {
  readonly idleMs: number;
  readonly deadlineMs: number;
  readonly maxBytes: number;
  readonly maxOpen: number;
  /** what the rest of a page too large to rewrite may hold */
  readonly maxRestBytes: number;
  /** the page is UTF-8 (no other charset in its Content-Type) */
  readonly utf8: boolean;
  /** the request's path, for the log */
  readonly path: string;
  /** aborts the origin fetch */
  readonly abort: () => void;
  /** called once the whole page has gone through */
  readonly onComplete: () => void;
}

/**
 * Called by the rewriter at the end of its input: null when that is the page's end, else the
 * function that appends the rest of the page there.
 */
export type PageRest = () => ((end: DocumentEnd) => Promise<void>) | null;

const LT = 60;
const SLASH = 47;
/** A tag name's first 6 letters as a number (5 bits a letter, lower-cased; a digit is 27). */
const nameCode = (name: string) => [...name].reduce((code, ch) => code * 32 + ch.charCodeAt(0) - 96, 0);
/** Void elements never stay open. */
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'].map(nameCode));

/**
 * Elements left open after `chunk`, from `open` before it: `<name` opens (void elements
 * excluded), `</name` closes one. An estimate, on the high side for pages that leave `<li>` or
 * `<p>` unclosed (an end tag closes them all); a `<` at a chunk's end counts as an open.
 */
export function openElements(chunk: Uint8Array, open: number): number {
  let n = open;
  const len = chunk.length;
  for (let i = chunk.indexOf(LT); i !== -1; i = chunk.indexOf(LT, i + 1)) {
    if (i + 1 === len) {
      n++;
      break;
    }
    const next = chunk[i + 1]!;
    if (next === SLASH) {
      const l = (chunk[i + 2] ?? 97) | 32;
      if (l >= 97 && l <= 122 && n > 0) n--;
      continue;
    }
    let code = 0;
    let j = i + 1;
    for (; j < len && j - i <= 7; j++) {
      const b = chunk[j]!;
      const l = b | 32;
      if (l >= 97 && l <= 122) code = code * 32 + l - 96;
      else if (b >= 48 && b <= 57) code = code * 32 + 27;
      else break;
    }
    if (j === i + 1) continue; // `<!`, `<?`, `< `: not a tag
    if (j - i > 7 || !VOID.has(code)) n++;
  }
  return n;
}

/** How many bytes at the end of `b` start a UTF-8 character they do not finish (0–3). */
export function incompleteUtf8(b: Uint8Array): number {
  const n = b.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const c = b[n - k]!;
    if (c < 0x80) return 0;
    if (c >= 0xc0) return (c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2) > k ? k : 0;
  }
  return 0;
}

function joined(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

/**
 * The visitor's body: the origin's through the rewriter `makeRewriter` builds (handing it the
 * page's rest, if any, to append at its end), guarded as above. The rewriter pulls the origin's
 * bytes through a small pull stream, read by read as it asks for them.
 */
export function guardedPage(
  origin: ReadableStream<Uint8Array>,
  headers: Headers,
  makeRewriter: (rest: PageRest) => HTMLRewriter,
  g: PageGuard,
): ReadableStream<Uint8Array> {
  const reader = origin.getReader();
  const started = Date.now();
  let readAt = started;
  let waiting = false;
  let finished = false;
  let cut: string | null = null;
  let timer: ReturnType<typeof setTimeout> | null = setTimeout(() => tick(), Math.min(g.idleMs, g.deadlineMs));
  let bytes = 0;
  let open = 0;
  let carry: Uint8Array | null = null; // a character the last chunk began and did not finish
  /** the rest of a page too large to rewrite, once the rewriter has stopped short of it */
  let rest: Uint8Array | null = null;

  const finish = () => {
    finished = true;
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  const cutOff = (reason: string, fields: Record<string, unknown>) => {
    cut = reason;
    log.error(reason, { path: g.path, ...fields });
    g.abort(); // the pending read fails with it
  };
  const tick = () => {
    timer = null;
    if (finished) return;
    const now = Date.now();
    const left = g.deadlineMs - (now - started);
    if (left <= 0) return cutOff('page body deadline passed; cut off', { deadlineMs: g.deadlineMs });
    if (waiting && now - readAt >= g.idleMs) return cutOff('origin body stalled; cut off', { idleMs: g.idleMs });
    timer = setTimeout(tick, Math.min(waiting ? g.idleMs - (now - readAt) : g.idleMs, left));
  };
  const read = async () => {
    waiting = true;
    readAt = Date.now();
    try {
      const next = await reader.read();
      if (cut !== null) throw new Error(cut); // a cancelled stream may read as done: it is not
      return next;
    } finally {
      waiting = false;
    }
  };
  const failed = (err: unknown) => {
    if (cut === null && !finished) log.error('page rewrite failed', { path: g.path, error: String(err) });
    finish();
    g.abort();
  };

  /** The rest of the page as text at the rewriter's end (the runtime sends what a handler appends once it returns). */
  const appendRest = async (end: DocumentEnd, first: Uint8Array) => {
    try {
      const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // bytes that are not UTF-8 fail the page rather than change
      let size = first.byteLength;
      end.append(decoder.decode(first, { stream: true }), { html: true });
      for (let next = await read(); !next.done; next = await read()) {
        size += next.value.byteLength;
        if (size > g.maxRestBytes) throw new Error(`the rest of the page passed ${g.maxRestBytes} bytes`);
        end.append(decoder.decode(next.value, { stream: true }), { html: true });
      }
      end.append(decoder.decode(), { html: true });
      finish();
      g.onComplete();
    } catch (err) {
      failed(err);
      throw err;
    }
  };

  const input = new ReadableStream<Uint8Array>(
    {
      async pull(ctl) {
        try {
          const next = await read();
          if (next.done) {
            if (carry !== null) ctl.enqueue(carry);
            ctl.close();
            finish();
            g.onComplete();
            return;
          }
          const chunk: Uint8Array = carry === null ? next.value : joined(carry, next.value);
          bytes += next.value.byteLength;
          open = openElements(next.value, open);
          if (g.utf8 && (bytes > g.maxBytes || open > g.maxOpen)) {
            rest = chunk; // appended at the rewriter's end (appendRest)
            carry = null;
            log.warn('page too large to rewrite whole; the rest passed through untouched', { path: g.path, bytes, open });
            ctl.close();
            return;
          }
          const tail = g.utf8 ? incompleteUtf8(chunk) : 0;
          carry = tail === 0 ? null : chunk.slice(chunk.byteLength - tail);
          ctl.enqueue(tail === 0 ? chunk : chunk.subarray(0, chunk.byteLength - tail));
        } catch (err) {
          failed(err);
          ctl.error(err); // the visitor's body errors with it
        }
      },
      // the rewriter gave up (its error), or the visitor went away
      cancel: (reason) => failed(reason),
    },
    { highWaterMark: 0 },
  );

  return makeRewriter(() => {
    const first = rest;
    return first === null ? null : (end) => appendRest(end, first);
  }).transform(new Response(input, { headers })).body!;
}
