/** Recommendation templates (src/worker/proxy/item-template.ts): item values escaped for where they sit. */
import { describe, expect, it } from 'vitest';
import { renderItems, safeUrl, UNSAFE_URL } from '../../src/worker/proxy/item-template.ts';

const one = (template: string, item: Record<string, string | number>) => renderItems(template, [item]);

describe('item templates', () => {
  it('escapes text and quoted attributes, numbers positions, blanks unknown fields', () => {
    expect(renderItems('<li title="{{name}}">{{index}}. {{name}} {{nope}}</li>', [{ name: '"<b>' }, { name: 'ok' }])).toBe(
      '<li title="&quot;&lt;b&gt;">1. &quot;&lt;b&gt; </li><li title="ok">2. ok </li>',
    );
    expect(one("<b title='{{name}}'>", { name: "x' onmouseover='alert(1)" })).toBe("<b title='x&#39; onmouseover=&#39;alert(1)'>");
  });

  it.each([
    'javascript:alert(document.cookie)',
    'JaVaScRiPt:alert(1)',
    '  javascript:alert(1)',
    'java\tscript:alert(1)',
    'java\nscript:alert(1)',
    '\u0001javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox(1)',
    'blob:https://x/1',
  ])('a link to %j is made harmless', (url) => {
    expect(one('<a href="{{url}}">{{name}}</a>', { url, name: 'n' })).toBe(`<a href="${UNSAFE_URL}">n</a>`);
    expect(one('<img src={{url}}>', { url })).toBe(`<img src=${UNSAFE_URL}>`);
    expect(one('<form><button formaction="{{url}}">', { url })).toBe(`<form><button formaction="${UNSAFE_URL}">`);
  });

  it('checks the whole URL, fields and template text together', () => {
    expect(one('<a href="{{a}}{{b}}">', { a: 'java', b: 'script:alert(1)' })).toBe(`<a href="${UNSAFE_URL}">`);
    expect(one('<a href="{{a}}:x">', { a: 'javascript' })).toBe(`<a href="${UNSAFE_URL}">`);
    expect(one('<a href="/p/{{id}}?ref={{ref}}">', { id: 'javascript:alert(1)', ref: 'a"b' })).toBe(
      '<a href="/p/javascript:alert(1)?ref=a&quot;b">',
    );
  });

  it.each(['/p/sku-1', 'p/1?next=a:b', 'https://shop.example/p?a=1&b=2', 'HTTP://x', 'mailto:a@b.example', 'tel:+100', '#top', '?q=1', ''])(
    'keeps the link %j',
    (url) => {
      expect(safeUrl(url)).toBe(true);
      expect(one('<a href="{{url}}">', { url })).toBe(`<a href="${url.replace(/&/g, '&amp;')}">`);
    },
  );

  it.each(['//evil.example/x', '/\\evil.example', '\\\\evil.example', '\\/evil.example', ' //evil.example', '/\t/evil.example'])(
    'a link to another host, %j, is made harmless whether the item or the template puts the slashes first',
    (url) => {
      expect(safeUrl(url)).toBe(false);
      expect(one('<a href="{{url}}">', { url })).toBe(`<a href="${UNSAFE_URL}">`);
      expect(one('<img src={{url}}>', { url })).toBe(`<img src=${UNSAFE_URL}>`);
    },
  );

  it('refuses a template slash followed by an item slash, and keeps paths that only contain "//"', () => {
    expect(one('<a href="/{{id}}">', { id: '/evil.example' })).toBe(`<a href="${UNSAFE_URL}">`);
    expect(one('<a href="/{{id}}">', { id: '\\evil.example' })).toBe(`<a href="${UNSAFE_URL}">`);
    expect(one('<a href="{{a}}{{b}}">', { a: '/', b: '/evil.example' })).toBe(`<a href="${UNSAFE_URL}">`);
    expect(one('<a href="/p/{{id}}">', { id: '/evil.example' })).toBe('<a href="/p//evil.example">'); // a path on this host
    expect(one('<a href="https://shop.example/{{id}}">', { id: '/x' })).toBe('<a href="https://shop.example//x">');
  });

  it('checks every URL of a srcset or ping list', () => {
    const srcset = '<img srcset="{{a}} 1x, {{b}} 2x">';
    expect(one(srcset, { a: '/i/1.jpg', b: '/i/1@2x.jpg' })).toBe('<img srcset="/i/1.jpg 1x, /i/1@2x.jpg 2x">');
    expect(one(srcset, { a: '/i/1.jpg', b: '//evil.example/x.jpg' })).toBe(`<img srcset="${UNSAFE_URL}">`);
    expect(one(srcset, { a: '/i/1.jpg', b: 'javascript:alert(1)' })).toBe(`<img srcset="${UNSAFE_URL}">`);
    expect(one('<img srcset="{{a}}">', { a: '/i/1.jpg 1x,//evil.example/x 2x' })).toBe(`<img srcset="${UNSAFE_URL}">`);
    // no white space: one URL, commas and all (the standard's parser), a path on this host
    expect(one('<img srcset="{{a}}">', { a: '/i/1.jpg,//evil.example/x' })).toBe('<img srcset="/i/1.jpg,//evil.example/x">');
    expect(one('<img srcset="{{a}}">', { a: '/i/1.jpg, //evil.example/x' })).toBe(`<img srcset="${UNSAFE_URL}">`);
    expect(one('<img srcset="/i/{{a}}.jpg 1x, /i/{{a}}@2x.jpg (w,1) 2x">', { a: 'sku-1' })).toBe(
      '<img srcset="/i/sku-1.jpg 1x, /i/sku-1@2x.jpg (w,1) 2x">',
    );
    expect(one('<a ping="{{a}}">', { a: '/track //evil.example/t' })).toBe(`<a ping="${UNSAFE_URL}">`);
    expect(one('<a ping="{{a}}">', { a: '/track /t2' })).toBe('<a ping="/track /t2">');
  });

  it('escapes every character that could end an unquoted value', () => {
    expect(one('<a href={{url}} title={{name}}>{{name}}</a>', { url: '/p/1 onclick=alert(1)', name: 'x onmouseover=alert(1)' })).toBe(
      '<a href=&#47;p&#47;1&#32;onclick&#61;alert&#40;1&#41; title=x&#32;onmouseover&#61;alert&#40;1&#41;>x onmouseover=alert(1)</a>',
    );
    expect(one('<i data-x={{v}}>', { v: '😀"' })).toBe('<i data-x=&#128512;&#34;>');
  });

  it('never lets a value into code: event handlers, style, srcdoc, script and style bodies', () => {
    const evil = "');alert(1);('";
    expect(one(`<a onclick="track('{{id}}')">`, { id: evil })).toBe(`<a onclick="track('')">`);
    expect(one(`<a onclick="track('{{id}}')">`, { id: 'sku-1.2' })).toBe(`<a onclick="track('sku-1.2')">`);
    expect(one('<b style="color: {{c}}">', { c: 'red;background:url(//evil.example/x)' })).toBe('<b style="color: ">');
    expect(one('<b style="width: {{w}}">', { w: '50%' })).toBe('<b style="width: 50%">');
    expect(one('<iframe srcdoc="{{html}}">', { html: '<script>alert(1)</script>' })).toBe('<iframe srcdoc="">');
    expect(one("<script>var x = '{{name}}', y = `{{name}}`</script><p>{{name}}</p>", { name: "';alert(1)//${x}" })).toBe(
      "<script>var x = '', y = ``</script><p>&#39;;alert(1)//${x}</p>",
    );
    expect(one('<SCRIPT>go({{n}})</SCRIPT>{{n}}', { n: 42 })).toBe('<SCRIPT>go(42)</SCRIPT>42');
  });

  it('never lets a value name a tag or an attribute', () => {
    expect(one('<div {{a}}>', { a: 'onclick=alert(1)' })).toBe('<div >');
    expect(one('<div {{a}}="1">', { a: 'onmouseover' })).toBe('<div ="1">');
    expect(one('<div {{a}}="1">', { a: 'data-rank' })).toBe('<div data-rank="1">');
    expect(one('<{{t}}>{{n}}', { t: 'script', n: 'alert(1)' })).toBe('<>alert(1)');
    expect(one('<{{t}} src=x>', { t: 'img onerror=alert(1)' })).toBe('< src=x>');
    expect(one('<i></{{t}}>', { t: 'i><script>' })).toBe('<i></>');
    // an attribute a field names gets no URL or code from another field
    expect(one('<a {{a}}={{b}}>', { a: 'href', b: 'javascript:alert(1)' })).toBe('<a href=>');
    expect(one('<a data-{{a}}="{{b}}">', { a: 'x', b: 'ok 1' })).toBe('<a data-x="ok 1">');
    expect(one('<a title="t" {{a}}="{{b}}">', { a: 'x', b: "'quoted'" })).toBe('<a title="t" x="">');
  });

  it('keeps comments closed and ignores fields that are not own values', () => {
    expect(one('<!-- {{name}} --><p>{{name}}</p>', { name: '--><script>' })).toBe(
      '<!-- &#45;&#45;&gt;&lt;script&gt; --><p>--&gt;&lt;script&gt;</p>',
    );
    // a value ending in "-" cannot close the comment early (before a link the checks took for commented out)
    const out = one('<!-- {{a}}-><a href="{{url}}">', { a: 'x-', url: 'javascript:alert(1)' });
    expect(out.startsWith('<!-- x&#45;->')).toBe(true);
    expect(out).not.toMatch(/--!?>/);
    expect(one('{{__proto__}}{{constructor}}{{toString}}', { name: 'x' })).toBe('');
  });
});
