/**
 * `readBodyText` (shared/body.ts) lets the runtime decode a body of declared length: it answers
 * as decoding `readBodyBytes` did, text for text and 413 for 413, at and around the cap, for
 * multi-byte text, a byte-order mark, malformed UTF-8, and bodies longer or shorter than declared.
 */
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/worker/shared/http-error.ts';
import { readBodyBytes, readBodyText } from '../../src/worker/shared/body.ts';

const MAX = 1000;
const enc = new TextEncoder();

/** What a read gave: the text, or the status it refused with. */
async function outcome(read: () => Promise<string>): Promise<{ text: string } | { status: number }> {
  try {
    return { text: await read() };
  } catch (err) {
    if (err instanceof HttpError) return { status: err.status };
    throw err;
  }
}

const request = (body: Uint8Array, declared?: number) =>
  new Request('http://attune.test/v1/decide', {
    method: 'POST',
    body,
    headers: declared === undefined ? {} : { 'content-length': String(declared) },
  });

const ascii = (n: number) => enc.encode('x'.repeat(n));
const bytes = (...xs: number[]) => Uint8Array.from(xs);
const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const BOM = bytes(0xef, 0xbb, 0xbf);
const MALFORMED = bytes(0xff, 0xc3, 0x28, 0xe2, 0x82, 0xf0, 0x9f, 0x98, 0xed, 0xa0, 0x80, 0xc0, 0xaf);

const CASES: [string, Uint8Array, number | undefined][] = [
  ['empty', new Uint8Array(0), 0],
  ['small JSON', enc.encode('{"slots":[{"id":"a","candidates":["x"]}]}'), undefined],
  ['one under the cap', ascii(MAX - 1), MAX - 1],
  ['at the cap', ascii(MAX), MAX],
  ['one over the cap', ascii(MAX + 1), MAX + 1],
  ['multi-byte text at the cap', enc.encode('é'.repeat(MAX / 2)), MAX],
  ['four-byte characters one under', enc.encode(`${'😀'.repeat(249)}xxx`), MAX - 1],
  ['multi-byte text one over', enc.encode(`${'é'.repeat(MAX / 2)}x`), MAX + 1],
  ['a byte-order mark, then JSON', concat(BOM, enc.encode('{"a":1}')), 10],
  ['a byte-order mark, at the cap', concat(BOM, ascii(MAX - 3)), MAX],
  ['malformed UTF-8 up to the cap', concat(...Array.from({ length: 76 }, () => MALFORMED), ascii(MAX - 76 * 13)), MAX],
  ['malformed UTF-8 alone', MALFORMED, MALFORMED.length],
  ['longer than declared, far over the cap', ascii(5 * MAX), 100],
  ['longer than declared, just over the cap', ascii(MAX + 10), 100],
  ['malformed, longer than declared, far over the cap', concat(...Array.from({ length: 300 }, () => bytes(0xff))), 100],
  ['shorter than declared', ascii(10), 500],
];

describe('readBodyText', () => {
  it.each(CASES)('%s: as decoding readBodyBytes did', async (_, body, declared) => {
    for (const d of declared === undefined ? [undefined, body.length] : [declared]) {
      const before = await outcome(async () => new TextDecoder().decode(await readBodyBytes(request(body, d), MAX)));
      expect(await outcome(() => readBodyText(request(body, d), MAX))).toEqual(before);
    }
  });

  it('a chunked body without a length is read as before', async () => {
    const stream = () =>
      new ReadableStream({
        start(c) {
          for (let i = 0; i < 3; i++) c.enqueue(enc.encode('x'.repeat(400)));
          c.close();
        },
      });
    const r = (b: ReadableStream) => new Request('http://attune.test/', { method: 'POST', body: b });
    expect(await outcome(() => readBodyText(r(stream()), MAX))).toEqual({ status: 413 });
    expect(await outcome(() => readBodyText(r(stream()), 2 * MAX))).toEqual({ text: 'x'.repeat(1200) });
  });

  it('a body longer than it declared (only a Request built in JavaScript can be: the network frames a body by its length) is refused when its text cannot have come from the cap', async () => {
    // 900 malformed bytes, each a U+FFFD: at least 900 bytes, within a cap of 1000; past a cap of 800
    const body = concat(...Array.from({ length: 900 }, () => bytes(0xff)));
    expect(await outcome(() => readBodyText(request(body, 100), 800))).toEqual({ status: 413 });
    expect(await outcome(() => readBodyText(request(body, 100), MAX))).toEqual({ text: '\ufffd'.repeat(900) });
  });
});
