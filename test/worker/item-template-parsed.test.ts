/**
 * Recommendation templates against a real HTML parser (workerd's HTMLRewriter): whatever the
 * items hold, the rendered markup has no element, event handler or unsafe link the template did
 * not write itself, nor a link to another host (src/worker/proxy/item-template.ts).
 */
import { describe, expect, it } from 'vitest';
import { renderItems } from '../../src/worker/proxy/item-template.ts';

const TEMPLATES = [
  '<li data-attune-item="{{id}}"><a href="{{url}}">{{index}}. {{name}}</a> {{price}}</li>',
  '<div class=rec title={{name}}><a href={{url}} onclick="pick(\'{{id}}\')">{{name}}</a></div>',
  '<a href="{{base}}{{url}}"><img src="{{img}}" alt="{{name}}" style="width: {{w}}"></a>',
  '<!-- {{name}} --><p>{{name}}</p><a href="/p/{{id}}">more</a>',
  "<script>track('{{id}}', `{{name}}`)</script><span>{{name}}</span><a href='{{url}}'>x</a>",
  '<div {{attr}}="{{name}}"><a {{attr}}={{url}}>{{name}}</a></div>',
  '<{{tag}} class="x">{{name}}</{{tag}}><a href="{{url}}">y</a>',
  '<textarea>{{name}}</textarea><style>.x{color:{{name}}}</style><a href={{url}}>z</a>',
  '<iframe srcdoc="{{name}}" src="{{url}}"></iframe><form action="{{url}}"><button formaction={{url}}>go</button></form>',
  '<svg><a xlink:href="{{url}}"><text>{{name}}</text></a></svg>',
  '<a href="/{{id}}"><img srcset="{{img}} 1x, /i/{{id}}.jpg 2x, {{url}}" alt=""></a>',
];

const HOSTILE = [
  '"><script>alert(1)</script>',
  "' onmouseover=alert(1) x='",
  'x onclick=alert(1)',
  'onclick',
  'script',
  'iframe',
  'javascript:alert(1)',
  ' java\tscript:alert(1)',
  'JAVASCRIPT:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  '--><img src=x onerror=alert(1)>',
  '</script><script>alert(1)</script>',
  '${alert(1)}',
  '`;alert(1);`',
  '-',
  'java',
  'script:alert(1)',
  '//evil.example/x',
  '/\\evil.example',
  '/evil.example',
  '/i.jpg 1x, //evil.example/x',
];
const FIELDS = ['id', 'url', 'name', 'price', 'base', 'img', 'w', 'attr', 'tag'];
const URL_ATTRS = new Set(['href', 'src', 'srcset', 'action', 'formaction', 'xlink:href']);
/** A scheme that runs code, or `//host` / `/\\host`: another host. */
const UNSAFE = /^[\x00-\x20]*((j\s*a\s*v\s*a\s*s\s*c\s*r\s*i\s*p\s*t|data|vbscript)\s*:|[/\\]\s*[/\\])/i;
/** Each URL of an attribute's value (a srcset's candidates: split at a comma followed by white space). */
const urlsOf = (name: string, value: string) => (name === 'srcset' ? value.split(/,\s+/).map((c) => c.trim().split(/\s/, 1)[0]!) : [value]);

interface Shape {
  tags: Record<string, number>;
  handlers: string[];
  unsafeLinks: string[];
}

async function shapeOf(html: string): Promise<Shape> {
  const shape: Shape = { tags: {}, handlers: [], unsafeLinks: [] };
  await new HTMLRewriter()
    .on('*', {
      element(el) {
        shape.tags[el.tagName] = (shape.tags[el.tagName] ?? 0) + 1;
        for (const [name = '', value = ''] of el.attributes) {
          if (name.startsWith('on')) shape.handlers.push(`${el.tagName}[${name}]`);
          if (URL_ATTRS.has(name) && urlsOf(name, value).some((u) => UNSAFE.test(u))) shape.unsafeLinks.push(`${name}=${value}`);
        }
      },
    })
    .transform(new Response(html))
    .text();
  return shape;
}

describe('item templates, parsed', () => {
  it('no item value adds an element or a handler, or makes a link unsafe', async () => {
    for (const template of TEMPLATES) {
      const benign = await shapeOf(renderItems(template, [Object.fromEntries(FIELDS.map((f) => [f, 'v']))]));
      for (const value of HOSTILE) {
        for (const spread of [true, false]) {
          // the value in every field at once, and in each field alone
          const items = spread
            ? [Object.fromEntries(FIELDS.map((f) => [f, value]))]
            : FIELDS.map((f) => ({ ...Object.fromEntries(FIELDS.map((g) => [g, 'v'])), [f]: value }));
          const html = renderItems(template, items);
          const got = await shapeOf(html);
          const label = `${template} with ${JSON.stringify(value)}: ${html}`;
          for (const [tag, n] of Object.entries(got.tags)) expect(n, label).toBeLessThanOrEqual((benign.tags[tag] ?? 0) * items.length);
          expect(
            got.handlers.filter((h) => !benign.handlers.includes(h)),
            label,
          ).toEqual([]);
          expect(got.unsafeLinks, label).toEqual([]);
        }
      }
    }
  });
});
