import { describe, expect, it, inject } from 'vitest';
import { linearFromEnvelope } from '../../src/core/linear-model.ts';
import { decodeEnvelope } from '../../src/core/model-format.ts';

const bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;

describe('golden blobs decode inside workerd exactly as in Node', () => {
  it('linear-v1.bin', () => {
    const r = decodeEnvelope(bytes(inject('goldenLinear')));
    if (!r.ok) throw new Error(r.reason);
    const m = linearFromEnvelope(r.envelope);
    if (!m.ok) throw new Error(m.reason);
    expect(m.model).toMatchObject({ name: 'golden-linear', version: 'v1', variants: ['control', 'a', 'b'], bits: 6 });
    expect(Array.from(m.model.bias)).toEqual([-1, -0.5, 0.25]);
    expect(r.envelope.featureSpecHash).toBe(0x12345678);
  });

  it('envelope-v1.bin, every dtype', () => {
    const r = decodeEnvelope(bytes(inject('goldenEnvelope')));
    if (!r.ok) throw new Error(r.reason);
    expect(Array.from(r.envelope.sections.get('U32_')!)).toEqual([4294967295, 0, 7]);
    expect(Array.from(r.envelope.sections.get('F64_')!)).toEqual([Math.PI]);
    expect(Array.from(r.envelope.sections.get('I8__')!)).toEqual([-128, 127, 0]);
  });
});
