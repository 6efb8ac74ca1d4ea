/**
 * UTF-8 without platform APIs (the core runs without them, and TextEncoder/TextDecoder are
 * platform APIs): model headers, and on every decision the profile cookie's text and the byte
 * size of each log record, which is why encoding and measuring avoid per-character allocation.
 */

const NON_ASCII = /[^\x00-\x7f]/;

/** Whether `s` is ASCII, and so its own UTF-8 (and Latin-1): one native scan. */
export const isAscii = (s: string): boolean => !NON_ASCII.test(s);

export function utf8Encode(s: string): Uint8Array {
  const out = new Uint8Array(utf8Length(s)); // sized first: no growing array, no copy
  let at = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[at++] = c;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x800) {
      out[at++] = 0xc0 | (c >> 6);
      out[at++] = 0x80 | (c & 0x3f);
    } else if (c < 0x10000) {
      out[at++] = 0xe0 | (c >> 12);
      out[at++] = 0x80 | ((c >> 6) & 0x3f);
      out[at++] = 0x80 | (c & 0x3f);
    } else {
      out[at++] = 0xf0 | (c >> 18);
      out[at++] = 0x80 | ((c >> 12) & 0x3f);
      out[at++] = 0x80 | ((c >> 6) & 0x3f);
      out[at++] = 0x80 | (c & 0x3f);
    }
  }
  return out;
}

/**
 * Bytes of `s` in UTF-8 (lone surrogates count as U+FFFD's 3, as encoders write them), without
 * encoding it: what a byte limit measured on a JavaScript string's `.length` gets wrong.
 */
export function utf8Length(s: string): number {
  // Most texts measured (log records, cookies) are ASCII: one native scan says so, and then
  // the length is the answer, without a loop over every character here.
  if (isAscii(s)) return s.length;
  let n = s.length; // one byte per UTF-16 unit, then the extra bytes of the rest
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a pair: two units, four bytes
      i++;
    } else n += 2;
  }
  return n;
}

/** Decodes UTF-8; returns null on malformed input rather than guessing. */
export function utf8Decode(bytes: Uint8Array): string | null {
  return decode(bytes, false);
}

/**
 * Decodes UTF-8 as browsers do for URLs and forms: each malformed sequence (up to the byte
 * that breaks it) becomes U+FFFD and decoding goes on.
 */
export function utf8DecodeLenient(bytes: Uint8Array): string {
  return decode(bytes, true)!;
}

function decode(bytes: Uint8Array, lenient: boolean): string | null {
  let s = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    let c: number;
    let extra: number;
    if (b < 0x80) {
      c = b;
      extra = 0;
    } else if (b >= 0xc2 && b < 0xe0) {
      c = b & 0x1f;
      extra = 1;
    } else if (b >= 0xe0 && b < 0xf0) {
      c = b & 0x0f;
      extra = 2;
    } else if (b >= 0xf0 && b < 0xf5) {
      c = b & 0x07;
      extra = 3;
    } else {
      if (!lenient) return null;
      s += '\ufffd';
      i++;
      continue;
    }
    let k = 1;
    for (; k <= extra; k++) {
      const n = bytes[i + k];
      if (n === undefined || (n & 0xc0) !== 0x80) break;
      c = (c << 6) | (n & 0x3f);
    }
    if (k <= extra) {
      if (!lenient) return null;
      s += '\ufffd';
      i += k; // the lead and the continuation bytes before the break
      continue;
    }
    i += extra + 1;
    s += String.fromCodePoint(c);
  }
  return s;
}
