/**
 * Recommendation slot templates: `{{field}}` is an item's value, `{{index}}` its 1-based
 * position. Item values are data (a catalog synced from a product feed, ids the recommender
 * learnt from events anyone can send), never markup, and escaping depends on where a field
 * sits, so each template is read once with a small HTML tokenizer that records every field's
 * context:
 * - text and quoted attribute values: HTML-escaped (in comments `-` and `!` too);
 * - unquoted attribute values: everything but `A-Z a-z 0-9 _ . -` as a character reference
 *   (a space would otherwise start a new attribute);
 * - URL attributes (`href`, `src`, `action`, …): escaped, and the whole value, fields and
 *   template text together, must be relative to the page's host or http(s)/mailto/tel, else it
 *   becomes `about:invalid#unsafe-url` (`javascript:` or `data:` links, or `//evil.example`,
 *   cannot be smuggled in by an item); in `srcset` and `ping`, every URL of the list;
 * - code (event handlers, `style`, `srcdoc`, `<script>`/`<style>` bodies, and the value of an
 *   attribute a field names): only values that cannot leave a string or start code
 *   (`A-Z a-z 0-9 _ . , # % + -` and spaces), else empty;
 * - attribute names: letters, digits, `_` and `-`, not `on…`, else empty; tag names: never.
 */

type Escape = (value: string) => string;
interface Field {
  readonly field: string;
  readonly escape: Escape;
}
/** A URL attribute's value with fields in it: checked whole, then written. */
interface UrlValue {
  readonly url: readonly (string | Field)[];
  /** a list of URLs, each checked */
  readonly list?: 'srcset' | 'ping';
}
type Part = string | Field | UrlValue;

export const UNSAFE_URL = 'about:invalid#unsafe-url';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}
const escapeUnquoted: Escape = (s) => s.replace(/[^A-Za-z0-9_.-]/gu, (ch) => `&#${ch.codePointAt(0)};`);
const SAFE_CODE = /^[A-Za-z0-9_.,#%+ -]*$/;
const codeValue: Escape = (s) => (SAFE_CODE.test(s) ? s : '');
const nameValue: Escape = (s) => (/^[A-Za-z0-9_-]*$/.test(s) && !/^on/i.test(s) ? s : '');
const none: Escape = () => '';
/** in a comment, also `-` and `!`: a value ending in `-` before the template's `->` would close it */
const commentValue: Escape = (s) => escapeHtml(s).replace(/[-!]/g, (ch) => `&#${ch.charCodeAt(0)};`);

const URL_ATTRS = new Set([
  'href',
  'src',
  'srcset',
  'action',
  'formaction',
  'xlink:href',
  'data',
  'poster',
  'cite',
  'background',
  'ping',
  'manifest',
  'longdesc',
  'codebase',
]);
const CODE_ATTRS = new Set(['style', 'srcdoc']);
/** Elements whose content the HTML parser reads as raw text, not markup. */
const RAW_TEXT = new Set(['script', 'style', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript']);
const SAFE_SCHEMES = new Set(['http', 'https', 'mailto', 'tel']);

/** `//host` and `/\\host` (either slash either way): a browser reads them as another host on the page's scheme. */
const HOST_RELATIVE = /^[/\\]{2}/;

/**
 * Whether a URL, read as a browser reads it (edges trimmed, tabs and newlines dropped), is of a
 * safe scheme, or relative to the page's own host: `//evil.example/x` or `/\evil.example` is
 * relative too, but to another host, so it is refused whether an item or the template put the
 * slashes there (`href="/{{id}}"` with the id `/evil.example`).
 */
export function safeUrl(value: string): boolean {
  const s = value.replace(/[\t\n\r]/g, '').replace(/^[\x00-\x20]+/, '');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(s);
  return scheme === null ? !HOST_RELATIVE.test(s) : SAFE_SCHEMES.has(scheme[1]!.toLowerCase());
}

/**
 * Every URL of a `srcset` (`url [descriptor], url [descriptor]…`, read as the HTML standard's
 * candidate parser reads it: a URL runs to the next white space, commas at its end are
 * separators) or a `ping` (URLs separated by white space): each must pass `safeUrl`.
 */
export function safeUrlList(value: string, attr: 'srcset' | 'ping'): boolean {
  const s = value.replace(/[\t\n\r]/g, ' ');
  if (attr === 'ping') return s.split(/[\f ]+/).every((u) => u === '' || safeUrl(u));
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /[\f ,]/.test(s[i]!)) i++; // white space and commas before a candidate
    if (i >= s.length) break;
    let end = i;
    while (end < s.length && !/[\f ]/.test(s[end]!)) end++;
    const url = s.slice(i, end).replace(/,+$/, '');
    if (!safeUrl(url)) return false;
    i = end;
    if (s[end - 1] !== ',') {
      // descriptors run to the next comma outside parentheses
      let depth = 0;
      while (i < s.length && (s[i] !== ',' || depth > 0)) {
        if (s[i] === '(') depth++;
        else if (s[i] === ')' && depth > 0) depth--;
        i++;
      }
    }
  }
  return true;
}

const FIELD = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;
const SPACE = /[\t\n\f\r ]/;

/** Tokenizer states, after the HTML standard's (only those that decide a field's context). */
const S = {
  Text: 0,
  Comment: 1,
  RawText: 2,
  TagName: 3,
  EndTag: 4,
  BeforeAttr: 5,
  AttrName: 6,
  AfterAttrName: 7,
  BeforeValue: 8,
  ValueDq: 9,
  ValueSq: 10,
  ValueUq: 11,
} as const;
type S = (typeof S)[keyof typeof S];

/** The template as static markup and fields, each field with the escaping of its context. */
export function compileTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let out = ''; // static markup not yet pushed
  let state: S = S.Text;
  let tag = '';
  let attr = '';
  let attrFromField = false; // an attribute named by a field: its value is treated as code
  let rawEnd = ''; // `</name` that ends the raw-text element being read
  let url: (string | Field)[] | null = null; // the value of a URL attribute being read
  let urlText = '';

  const flush = () => {
    if (out !== '') parts.push(out);
    out = '';
  };
  const startValue = (s: S) => {
    state = s;
    if (URL_ATTRS.has(attr)) {
      url = [];
      urlText = '';
    }
  };
  const endValue = () => {
    if (url !== null) {
      if (urlText !== '') url.push(urlText);
      if (url.every((p) => typeof p === 'string')) out += url.join('');
      else {
        flush();
        parts.push(attr === 'srcset' || attr === 'ping' ? { url, list: attr } : { url });
      }
      url = null;
    }
    state = S.BeforeAttr;
  };
  const endTag = () => {
    state = RAW_TEXT.has(tag) ? S.RawText : S.Text;
    rawEnd = `</${tag}`;
  };

  const field = (name: string) => {
    if (state === S.BeforeValue) startValue(S.ValueUq); // a field right after `=` starts an unquoted value
    let esc: Escape;
    if (state === S.Text) esc = escapeHtml;
    else if (state === S.Comment) esc = commentValue;
    else if (state === S.RawText) esc = codeValue;
    else if (state === S.ValueDq || state === S.ValueSq || state === S.ValueUq) {
      esc = attrFromField || attr.startsWith('on') || CODE_ATTRS.has(attr) ? codeValue : state === S.ValueUq ? escapeUnquoted : escapeHtml;
    } else if (state === S.TagName || state === S.EndTag)
      esc = none; // a tag named by data could open a <script>
    else {
      esc = nameValue; // in an attribute name, or starting one
      if (state !== S.AttrName) attr = '';
      state = S.AttrName;
      attrFromField = true;
    }
    const f: Field = { field: name, escape: esc };
    if (url !== null) {
      if (urlText !== '') url.push(urlText);
      urlText = '';
      url.push(f);
    } else {
      flush();
      parts.push(f);
    }
  };

  /** `fieldNext`: a field follows this text, so a `<` that ends it opens a tag. */
  const markup = (text: string, fieldNext: boolean) => {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      switch (state) {
        case S.Text:
          if (ch === '<' && (/[A-Za-z]/.test(text[i + 1] ?? '') || (fieldNext && i + 1 === text.length))) {
            state = S.TagName;
            tag = '';
          } else if (ch === '<' && text[i + 1] === '/') state = S.EndTag;
          else if (ch === '<' && text.startsWith('!--', i + 1)) state = S.Comment;
          break;
        case S.Comment:
          if (ch === '>' && text.slice(i - 2, i) === '--') state = S.Text;
          break;
        case S.RawText:
          if (ch === '<' && text.slice(i, i + rawEnd.length).toLowerCase() === rawEnd) state = S.EndTag;
          break;
        case S.EndTag:
          if (ch === '>') state = S.Text;
          break;
        case S.TagName:
          if (SPACE.test(ch) || ch === '/') state = S.BeforeAttr;
          else if (ch === '>') endTag();
          else tag += ch.toLowerCase();
          break;
        case S.BeforeAttr:
        case S.AfterAttrName:
          if (ch === '>') endTag();
          else if (ch === '=' && state === S.AfterAttrName) state = S.BeforeValue;
          else if (!SPACE.test(ch) && ch !== '/') {
            state = S.AttrName;
            attr = ch.toLowerCase();
            attrFromField = false;
          }
          break;
        case S.AttrName:
          if (ch === '=') state = S.BeforeValue;
          else if (ch === '>') endTag();
          else if (SPACE.test(ch) || ch === '/') state = S.AfterAttrName;
          else attr += ch.toLowerCase();
          break;
        case S.BeforeValue:
          if (ch === '"' || ch === "'") {
            out += ch;
            startValue(ch === '"' ? S.ValueDq : S.ValueSq);
            continue;
          }
          if (ch === '>') endTag();
          else if (!SPACE.test(ch)) startValue(S.ValueUq);
          break;
        case S.ValueDq:
        case S.ValueSq:
        case S.ValueUq: {
          const ends = state === S.ValueDq ? ch === '"' : state === S.ValueSq ? ch === "'" : SPACE.test(ch) || ch === '>';
          if (ends) {
            const unquoted = state === S.ValueUq;
            endValue();
            if (unquoted && ch === '>') endTag();
            out += ch;
            continue;
          }
          break;
        }
      }
      if (url !== null) urlText += ch;
      else out += ch;
    }
  };

  let last = 0;
  for (const m of template.matchAll(FIELD)) {
    markup(template.slice(last, m.index), true);
    field(m[1]!);
    last = m.index + m[0].length;
  }
  markup(template.slice(last), false);
  if (url !== null) endValue(); // a template that ends inside a value
  flush();
  return parts;
}

const compiled = new Map<string, Part[]>();

/** Each item through the template (compiled once per template: page rules change rarely). */
export function renderItems(template: string, items: readonly Readonly<Record<string, string | number>>[]): string {
  let parts = compiled.get(template);
  if (parts === undefined) {
    if (compiled.size >= 256) compiled.clear(); // rules reloads bring new templates: stay bounded
    compiled.set(template, (parts = compileTemplate(template)));
  }
  let html = '';
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    // own fields only: `{{constructor}}` or `{{__proto__}}` is an unknown field, not Object's
    const value = (f: Field) => (f.field === 'index' ? String(i + 1) : Object.hasOwn(item, f.field) ? String(item[f.field]) : '');
    for (const p of parts) {
      if (typeof p === 'string') html += p;
      else if ('field' in p) html += p.escape(value(p));
      else {
        let raw = '';
        for (const u of p.url) raw += typeof u === 'string' ? u : value(u);
        if (!(p.list === undefined ? safeUrl(raw) : safeUrlList(raw, p.list))) html += UNSAFE_URL;
        else for (const u of p.url) html += typeof u === 'string' ? u : u.escape(value(u));
      }
    }
  }
  return html;
}
