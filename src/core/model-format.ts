/**
 * The binary envelope every model kind is stored in. Decoding is a few typed-array views over
 * the blob plus one small JSON header: no copy of the weights, no parse of them.
 *
 * All integers little-endian. Offsets are from the start of the blob.
 *
 * | offset | size | field                                                                |
 * | ------ | ---- | -------------------------------------------------------------------- |
 * | 0      | 4    | magic `ATNM` (0x41 0x54 0x4e 0x4d)                                   |
 * | 4      | 2    | format version (u16), currently 1                                    |
 * | 6      | 2    | kind (u16), see `MODEL_KIND`                                          |
 * | 8      | 4    | feature-spec hash (u32) of the extractor the model was built for    |
 * | 12     | 4    | total length of the blob in bytes (u32), a multiple of 8            |
 * | 16     | 4    | checksum (u32) of bytes 24 … total, see `checksum`                   |
 * | 20     | 2    | section count N (u16)                                                |
 * | 22     | 2    | reserved, 0                                                          |
 * | 24     | 4    | header length H (u32): bytes of UTF-8 JSON `{name, version, meta}`   |
 * | 28     | H    | header JSON, then zero padding to a multiple of 8                    |
 * | S      | 16·N | section table: tag (4 ASCII bytes), dtype (u8), 3 reserved bytes,    |
 * |        |      | byte offset (u32, a multiple of 8), element count (u32)              |
 * | …      |      | section data, each aligned to 8 bytes, zero padded                   |
 *
 * dtypes: 1 f32, 2 f64, 3 i8, 4 u8, 5 i16, 6 u16, 7 i32, 8 u32.
 * Alignment lets each section be a typed-array view in place; the total length catches
 * truncation before the checksum runs; the feature-spec hash lets a loader refuse a model
 * trained on other features. Readers of a newer format version return `unsupportedVersion`
 * rather than guessing. Documented for humans in docs/model-format.md.
 */

import { checksum, type Checksum } from './checksum.ts';
import { utf8Decode, utf8Encode } from './utf8.ts';

export const MAGIC = 0x4d4e5441; // 'ATNM' read as little-endian u32
export const FORMAT_VERSION = 1;
const FIXED_HEADER = 28;
const SECTION_ENTRY = 16;

export const MODEL_KIND = { linear: 1, bandit: 2, itemknn: 3, bidder: 4, shading: 5 } as const;
export type ModelKind = keyof typeof MODEL_KIND;
const KIND_NAME = new Map<number, ModelKind>(Object.entries(MODEL_KIND).map(([k, v]) => [v, k as ModelKind]));

export type Section = Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
type SectionCtor = { new (buffer: ArrayBuffer, byteOffset: number, length: number): Section; BYTES_PER_ELEMENT: number };
const DTYPES: readonly (SectionCtor | null)[] = [
  null,
  Float32Array,
  Float64Array,
  Int8Array,
  Uint8Array,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
];

export interface ModelHeader {
  readonly name: string;
  readonly version: string;
  /** kind-specific metadata: variant names, hyper-parameters, … (small) */
  readonly meta: Readonly<Record<string, unknown>>;
}

export interface Envelope extends ModelHeader {
  readonly kind: ModelKind;
  readonly formatVersion: number;
  readonly featureSpecHash: number;
  readonly byteLength: number;
  readonly sections: ReadonlyMap<string, Section>;
}

export type DecodeFailure = 'truncated' | 'badMagic' | 'unsupportedVersion' | 'unknownKind' | 'checksum' | 'malformed';
export type DecodeResult = { ok: true; envelope: Envelope } | { ok: false; reason: DecodeFailure };

export interface EncodeInput extends ModelHeader {
  readonly kind: ModelKind;
  readonly featureSpecHash: number;
  readonly sections: ReadonlyArray<readonly [tag: string, data: Section]>;
}

const align8 = (n: number): number => (n + 7) & ~7;

/** How envelopes are verified; the reference until a runtime installs its kernel. */
let verify: Checksum = checksum;

/**
 * Verifies envelopes with `fn` from now on: the same numbers, faster (the Worker installs
 * the SIMD kernel at start-up, see checksum.ts). Per isolate; encoding keeps the reference.
 */
export function useChecksum(fn: Checksum): void {
  verify = fn;
}

function dtypeOf(data: Section): number {
  const i = DTYPES.findIndex((c) => c !== null && data instanceof c);
  if (i <= 0) throw new TypeError('unsupported section type');
  return i;
}

export function encodeEnvelope(input: EncodeInput): Uint8Array {
  const header = utf8Encode(JSON.stringify({ name: input.name, version: input.version, meta: input.meta }));
  const tableAt = align8(FIXED_HEADER + header.length);
  let cursor = tableAt + align8(SECTION_ENTRY * input.sections.length);
  const offsets: number[] = [];
  for (const [tag, data] of input.sections) {
    if (tag.length !== 4 || !/^[\x20-\x7e]{4}$/.test(tag)) throw new TypeError(`section tag must be 4 ASCII chars: ${tag}`);
    offsets.push(cursor);
    cursor = align8(cursor + data.byteLength);
  }
  const total = cursor;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint16(4, FORMAT_VERSION, true);
  view.setUint16(6, MODEL_KIND[input.kind], true);
  view.setUint32(8, input.featureSpecHash >>> 0, true);
  view.setUint32(12, total, true);
  view.setUint16(20, input.sections.length, true);
  view.setUint32(24, header.length, true);
  out.set(header, FIXED_HEADER);
  input.sections.forEach(([tag, data], i) => {
    const e = tableAt + i * SECTION_ENTRY;
    for (let c = 0; c < 4; c++) out[e + c] = tag.charCodeAt(c);
    out[e + 4] = dtypeOf(data);
    view.setUint32(e + 8, offsets[i]!, true);
    view.setUint32(e + 12, data.length, true);
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offsets[i]!);
  });
  view.setUint32(16, checksum(new Int32Array(out.buffer, 24, (total - 24) / 4)), true);
  return out;
}

/** Reads the envelope; the sections are views into `blob`, which must not be mutated after. */
export function decodeEnvelope(blob: ArrayBuffer): DecodeResult {
  // Magic first: a short blob of something else is foreign, not a truncated model.
  if (blob.byteLength >= 4 && new DataView(blob).getUint32(0, true) !== MAGIC) return { ok: false, reason: 'badMagic' };
  if (blob.byteLength < FIXED_HEADER) return { ok: false, reason: 'truncated' };
  const view = new DataView(blob);
  const formatVersion = view.getUint16(4, true);
  if (formatVersion !== FORMAT_VERSION) return { ok: false, reason: 'unsupportedVersion' };
  const kind = KIND_NAME.get(view.getUint16(6, true));
  if (kind === undefined) return { ok: false, reason: 'unknownKind' };
  const total = view.getUint32(12, true);
  if (blob.byteLength < total) return { ok: false, reason: 'truncated' };
  if (total % 8 !== 0 || blob.byteLength !== total) return { ok: false, reason: 'malformed' };
  if (verify(new Int32Array(blob, 24, (total - 24) / 4)) !== view.getUint32(16, true)) {
    return { ok: false, reason: 'checksum' };
  }
  const count = view.getUint16(20, true);
  const headerLength = view.getUint32(24, true);
  // before align8, whose 32-bit arithmetic would wrap a length near 2^32 into a small offset
  if (FIXED_HEADER + headerLength > total) return { ok: false, reason: 'malformed' };
  const tableAt = align8(FIXED_HEADER + headerLength);
  if (tableAt + count * SECTION_ENTRY > total) return { ok: false, reason: 'malformed' };
  const text = utf8Decode(new Uint8Array(blob, FIXED_HEADER, headerLength));
  let header: ModelHeader;
  try {
    header = JSON.parse(text ?? '');
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof header?.name !== 'string' || typeof header.version !== 'string' || typeof header.meta !== 'object') {
    return { ok: false, reason: 'malformed' };
  }
  const sections = new Map<string, Section>();
  const bytes = new Uint8Array(blob);
  for (let i = 0; i < count; i++) {
    const e = tableAt + i * SECTION_ENTRY;
    const tag = String.fromCharCode(bytes[e]!, bytes[e + 1]!, bytes[e + 2]!, bytes[e + 3]!);
    const ctor = DTYPES[bytes[e + 4]!];
    const offset = view.getUint32(e + 8, true);
    const length = view.getUint32(e + 12, true);
    if (!ctor || offset % 8 !== 0 || offset + length * ctor.BYTES_PER_ELEMENT > total) {
      return { ok: false, reason: 'malformed' };
    }
    sections.set(tag, new ctor(blob, offset, length));
  }
  return {
    ok: true,
    envelope: {
      kind,
      formatVersion,
      featureSpecHash: view.getUint32(8, true),
      byteLength: total,
      name: header.name,
      version: header.version,
      meta: header.meta ?? {},
      sections,
    },
  };
}
