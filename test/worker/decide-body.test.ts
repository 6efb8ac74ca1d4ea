/**
 * The hand-checked decide body (src/worker/decide/decide-body.ts) against the zod schema it
 * stands in for, in the runtime that serves it: for every body it takes, the same output as zod's,
 * key for key and in the same order; every body it does not take is left to zod (null), so the
 * errors stay zod's. Bodies valid, invalid, valid-but-unusual, and randomly altered.
 */
import { describe, expect, it } from 'vitest';
import { fastDecideRequest } from '../../src/worker/decide/decide-body.ts';
import { DecideRequest } from '../../src/worker/decide/decide-schema.ts';
import { parseWithMessages } from '../../src/worker/shared/issue-message.ts';

const viaZod = (body: unknown) => parseWithMessages(DecideRequest, body);

/** `fastDecideRequest` took `body`: zod takes it too, with the same output (JSON text: order included). */
function expectSameAsZod(body: unknown) {
  const fast = fastDecideRequest(body);
  expect(fast, JSON.stringify(body)).not.toBeNull();
  const zod = viaZod(body);
  expect(zod.success, JSON.stringify(body)).toBe(true);
  expect(JSON.stringify(fast)).toBe(JSON.stringify(zod.data));
  expect(fast).toEqual(zod.data);
}

const SLOT = { id: 'cta', candidates: ['a', 'b', 'c'] };
const URL_2048 = `https://shop.example/${'p'.repeat(2048 - 'https://shop.example/'.length)}`;

const VALID: [string, unknown][] = [
  ["bench:http's", { page: { url: 'https://shop.example/pricing?utm_medium=cpc' }, slots: [{ id: 'hero', model: 'hero-headline' }, SLOT] }],
  [
    "the snippet's, keys in its order",
    {
      visitorId: 'a1b2c3d4e5f6a7b8',
      profile: '',
      track: false,
      page: { url: 'https://shop.example/', referrer: 'https://www.google.com/' },
      slots: [SLOT],
    },
  ],
  ['strict, an experiment slot', { strict: true, slots: [{ id: 'x', experiment: 'headline-test' }] }],
  ['a model limited to candidates', { slots: [{ model: 'offer', candidates: ['none', 'discount'], id: 'o' }] }],
  ['an empty page, an empty referrer', { page: {}, slots: [SLOT] }],
  ['a page without a URL', { page: { referrer: '', pageType: 'pricing' }, slots: [SLOT] }],
  ['16 slots', { slots: Array.from({ length: 16 }, (_, i) => ({ id: `s${i}`, candidates: ['a'] })) }],
  ['32 candidates of 128 characters', { slots: [{ id: 'a', candidates: Array.from({ length: 32 }, (_, i) => `${i}`.padEnd(128, 'x')) }] }],
  ['a URL of 2048 characters', { page: { url: URL_2048 }, slots: [SLOT] }],
  ['a page type of 32, a profile of 4096', { page: { pageType: 't'.repeat(32) }, profile: 'p'.repeat(4096), slots: [SLOT] }],
  ['a slot id of 64 printable characters', { slots: [{ id: ' ~'.repeat(32), candidates: ['a'] }] }],
  ['a visitor id of 64', { visitorId: 'A_-9'.repeat(16), slots: [SLOT] }],
  ['unicode candidates', { slots: [{ id: 'a', candidates: ['é', '日本', '😀'] }] }],
];

/** Bodies left to zod: every invalid case of validation.test.ts and more, and valid ones zod changes or that are unusual. */
const LEFT_TO_ZOD: [string, unknown][] = [
  ['null', null],
  ['an array', []],
  ['a string', 'slots'],
  ['no slots', {}],
  ['slots not an array', { slots: 'hero' }],
  ['zero slots', { slots: [] }],
  ['17 slots', { slots: Array.from({ length: 17 }, (_, i) => ({ id: `s${i}`, candidates: ['a'] })) }],
  ['duplicate slot ids', { slots: [SLOT, { id: 'cta', candidates: ['y'] }] }],
  ['slot without candidates or model', { slots: [{ id: 'a' }] }],
  ['a model and an experiment', { slots: [{ id: 'a', model: 'm', experiment: 'e' }] }],
  ['numeric slot id', { slots: [{ id: 7, candidates: ['x'] }] }],
  ['a slot id with a line break', { slots: [{ id: 'a\nb', candidates: ['x'] }] }],
  ['a slot id of 65', { slots: [{ id: 'a'.repeat(65), candidates: ['x'] }] }],
  ['33 candidates', { slots: [{ id: 'a', candidates: Array.from({ length: 33 }, (_, i) => `v${i}`) }] }],
  ['no candidates', { slots: [{ id: 'a', candidates: [] }] }],
  ['empty candidate', { slots: [{ id: 'a', candidates: [''] }] }],
  ['a candidate of 129', { slots: [{ id: 'a', candidates: ['x'.repeat(129)] }] }],
  ['128 emoji: 256 UTF-16 units, 128 code points (zod takes it)', { slots: [{ id: 'a', candidates: ['😀'.repeat(128)] }] }],
  ['duplicate candidates', { slots: [{ id: 'a', candidates: ['x', 'x'] }] }],
  ['bad model name', { slots: [{ id: 'a', model: 'Hero Model!' }] }],
  ['bad experiment key', { slots: [{ id: 'a', experiment: 'Headline' }] }],
  ['bad visitor id', { visitorId: 'x', slots: [SLOT] }],
  ['page url not a URL', { page: { url: 'not a url' }, slots: [SLOT] }],
  ['page url of 2049', { page: { url: `${URL_2048}p` }, slots: [SLOT] }],
  ['page url with spaces around (zod trims it)', { page: { url: ' https://shop.example/ ' }, slots: [SLOT] }],
  ['page url with a tab (zod removes it)', { page: { url: 'https://shop.example/a\tb' }, slots: [SLOT] }],
  ['page url with a line break (zod removes it)', { page: { url: 'https://shop.example/a\nb' }, slots: [SLOT] }],
  ['a page that is an array', { page: [], slots: [SLOT] }],
  ['an empty page type', { page: { pageType: '' }, slots: [SLOT] }],
  ['a page type of 33', { page: { pageType: 't'.repeat(33) }, slots: [SLOT] }],
  ['a referrer of 2049', { page: { referrer: 'r'.repeat(2049) }, slots: [SLOT] }],
  ['an unknown page field (zod drops it)', { page: { url: 'https://a.example/', title: 'x' }, slots: [SLOT] }],
  ['attributes (valid: zod checks them)', { attributes: { plan: 'pro' }, slots: [SLOT] }],
  ['attribute object value', { attributes: { plan: { tier: 1 } }, slots: [SLOT] }],
  ['an unknown field (zod drops it)', { pad: 'x', slots: [SLOT] }],
  ['an unknown slot field (zod drops it)', { slots: [{ ...SLOT, weight: 2 }] }],
  ['__proto__ as a key', JSON.parse(`{"__proto__": {"x": 1}, "slots": ${JSON.stringify([SLOT])}}`)],
  ['strict not a boolean', { strict: 'yes', slots: [SLOT] }],
  ['track null', { track: null, slots: [SLOT] }],
  ['a profile of 4097', { profile: 'p'.repeat(4097), slots: [SLOT] }],
  ['a numeric profile', { profile: 1, slots: [SLOT] }],
];

describe('the hand-checked decide body', () => {
  it.each(VALID)('takes %s, as zod does', (_, body) => expectSameAsZod(body));

  it.each(LEFT_TO_ZOD)('leaves %s to zod', (_, body) => {
    expect(fastDecideRequest(body)).toBeNull();
  });

  it('agrees with zod on thousands of randomly altered bodies: whatever it takes, zod takes the same way', () => {
    let seed = 7;
    const rnd = (n: number) => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) % n;
    const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
    const VALUES: unknown[] = [
      undefined, // the key removed
      null,
      true,
      false,
      0,
      1.5,
      '',
      'a',
      'abcdefgh',
      'hero-headline',
      'Hero',
      ' a',
      'a\tb',
      'x'.repeat(65),
      'x'.repeat(129),
      'https://shop.example/x',
      ' https://shop.example/x',
      'https://shop.example/\nx',
      'not a url',
      URL_2048,
      `${URL_2048}p`,
      '😀'.repeat(40),
      [],
      ['a'],
      ['a', 'a'],
      ['a', 'b'],
      [''],
      [{ id: 'z', candidates: ['q'] }],
      {},
      { url: 'https://shop.example/' },
      { id: 'cta', candidates: ['a'] },
      { id: 'm', model: 'offer' },
    ];
    const FIELDS = ['visitorId', 'page', 'attributes', 'track', 'strict', 'profile', 'slots', 'other'];
    const SLOT_FIELDS = ['id', 'candidates', 'model', 'experiment', 'other'];
    const PAGE_FIELDS = ['url', 'referrer', 'pageType', 'other'];
    const set = (o: Record<string, unknown>, k: string, v: unknown) => {
      if (v === undefined) delete o[k];
      else o[k] = v;
    };
    let taken = 0;
    let left = 0;
    for (let i = 0; i < 5000; i++) {
      const body = structuredClone(VALID[rnd(VALID.length)]![1]) as Record<string, any>;
      for (let m = 1 + rnd(3); m > 0; m--) {
        const where = rnd(3);
        if (where === 0) set(body, pick(FIELDS), pick(VALUES));
        else if (where === 1 && Array.isArray(body.slots) && body.slots.length > 0) {
          const slot = body.slots[rnd(body.slots.length)];
          if (slot && typeof slot === 'object') set(slot, pick(SLOT_FIELDS), pick(VALUES));
        } else {
          if (typeof body.page !== 'object' || body.page === null || Array.isArray(body.page)) body.page = {};
          set(body.page, pick(PAGE_FIELDS), pick(VALUES));
        }
      }
      // through JSON, as a request body arrives (no undefined values)
      const json = JSON.parse(JSON.stringify(body));
      if (fastDecideRequest(json) === null) left++;
      else {
        expectSameAsZod(json);
        taken++;
      }
    }
    expect(taken).toBeGreaterThan(250); // both sides exercised
    expect(left).toBeGreaterThan(2500);
  });
});
