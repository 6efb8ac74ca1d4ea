import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { linearFromEnvelope, encodeLinearModel } from '../../src/core/linear-model.ts';
import { checksum } from '../../src/core/checksum.ts';
import { decodeEnvelope, encodeEnvelope, FORMAT_VERSION } from '../../src/core/model-format.ts';
import { GOLDEN_LINEAR, goldenLinearWeights } from '../fixtures/golden/spec.ts';

const golden = (name: string) => {
  const b = readFileSync(new URL(`../fixtures/golden/${name}`, import.meta.url));
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
};

describe('model envelope', () => {
  it('the encoder reproduces the golden linear blob byte for byte', () => {
    const bytes = encodeLinearModel({ ...GOLDEN_LINEAR, weights: goldenLinearWeights() });
    expect(Buffer.from(bytes).equals(Buffer.from(golden('linear-v1.bin')))).toBe(true);
  });

  it('the decoder reads the golden linear blob', () => {
    const r = decodeEnvelope(golden('linear-v1.bin'));
    if (!r.ok) throw new Error(r.reason);
    expect(r.envelope).toMatchObject({
      kind: 'linear',
      name: 'golden-linear',
      version: 'v1',
      formatVersion: FORMAT_VERSION,
      featureSpecHash: 0x12345678,
    });
    const m = linearFromEnvelope(r.envelope);
    if (!m.ok) throw new Error(m.reason);
    expect(m.model.variants).toEqual(['control', 'a', 'b']);
    expect(Array.from(m.model.bias)).toEqual([-1, -0.5, 0.25]);
    expect(m.model.policy).toEqual({ type: 'softmax', temperature: 0.5, floor: 0.1 });
    // int8 quantization: every weight within half a step of the original
    const w = goldenLinearWeights();
    for (let i = 0; i < w.length; i++) {
      const s = m.model.scale[i % 3]!;
      expect(Math.abs(m.model.weights[i]! * s - w[i]!)).toBeLessThanOrEqual(s / 2 + 1e-6);
    }
  });

  it('a linear model records its training window in the meta, and reads a malformed one as none', async () => {
    const base = { ...GOLDEN_LINEAR, weights: goldenLinearWeights() };
    const read = (bytes: Uint8Array) => {
      const env = decodeEnvelope(bytes.slice().buffer);
      if (!env.ok) throw new Error(env.reason);
      const m = linearFromEnvelope(env.envelope);
      if (!m.ok) throw new Error(m.reason);
      return { meta: env.envelope.meta as Record<string, unknown>, model: m.model };
    };
    const window = { from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 10, 8) };
    const withWindow = read(encodeLinearModel({ ...base, trainingWindow: window }));
    expect(withWindow.meta.trainingWindow).toEqual({ from: '2026-11-01T00:00:00.000Z', to: '2026-11-08T00:00:00.000Z' });
    expect(withWindow.model.trainingWindow).toEqual(window);
    expect(read(encodeLinearModel(base)).model.trainingWindow).toBeNull();
    // a model source carries it the same way
    const { compileSource } = await import('../../src/train/model-source.ts');
    const source = { kind: 'linear', name: 'w', variants: ['a', 'b'], bits: 4, bias: {}, weights: {} };
    const window2 = { from: '2026-11-01T00:00:00Z', to: '2026-11-08T00:00:00Z' };
    expect(read(compileSource({ ...source, trainingWindow: window2 }, 'w.json').blob).model.trainingWindow).toEqual(window);
    expect(() => compileSource({ ...source, trainingWindow: { from: 'monday', to: window2.to } }, 'w.json')).toThrow(
      /trainingWindow\.from/,
    );
    for (const bad of [{ from: 'x', to: '2026-11-08T00:00:00Z' }, { from: '2026-11-09T00:00:00Z', to: '2026-11-08T00:00:00Z' }, 'nope']) {
      const env = decodeEnvelope(encodeLinearModel(base).slice().buffer);
      if (!env.ok) throw new Error(env.reason);
      const m = linearFromEnvelope({ ...env.envelope, meta: { ...(env.envelope.meta as object), trainingWindow: bad } });
      expect(m.ok && m.model.trainingWindow).toBeNull(); // still served: a window only informs evaluation
    }
  });

  it('the golden multi-section blob decodes every dtype in place', () => {
    const r = decodeEnvelope(golden('envelope-v1.bin'));
    if (!r.ok) throw new Error(r.reason);
    const s = r.envelope.sections;
    expect(Array.from(s.get('F32_')!)).toEqual([1.5, -2.25]);
    expect(Array.from(s.get('F64_')!)).toEqual([Math.PI]);
    expect(Array.from(s.get('I8__')!)).toEqual([-128, 127, 0]);
    expect(Array.from(s.get('U8__')!)).toEqual([255]);
    expect(Array.from(s.get('I16_')!)).toEqual([-32768, 32767]);
    expect(Array.from(s.get('U16_')!)).toEqual([65535, 1]);
    expect(Array.from(s.get('I32_')!)).toEqual([-2147483648]);
    expect(Array.from(s.get('U32_')!)).toEqual([4294967295, 0, 7]);
    for (const view of s.values()) expect(view.byteOffset % 8).toBe(0);
  });

  it('refuses truncated, corrupt, foreign and future blobs with the reason', () => {
    const good = new Uint8Array(golden('linear-v1.bin'));
    expect(decodeEnvelope(good.slice(0, 10).buffer)).toEqual({ ok: false, reason: 'truncated' });
    expect(decodeEnvelope(good.slice(0, good.length - 8).buffer)).toEqual({ ok: false, reason: 'truncated' });
    const flipped = good.slice();
    flipped[good.length - 20]! ^= 0x04;
    expect(decodeEnvelope(flipped.buffer)).toEqual({ ok: false, reason: 'checksum' });
    const magic = good.slice();
    magic[0] = 0x50;
    expect(decodeEnvelope(magic.buffer)).toEqual({ ok: false, reason: 'badMagic' });
    const future = good.slice();
    future[4] = FORMAT_VERSION + 1;
    expect(decodeEnvelope(future.buffer)).toEqual({ ok: false, reason: 'unsupportedVersion' });
    const kind = good.slice();
    kind[6] = 200;
    expect(decodeEnvelope(kind.buffer)).toEqual({ ok: false, reason: 'unknownKind' });
    const padded = new Uint8Array(good.length + 8);
    padded.set(good);
    expect(decodeEnvelope(padded.buffer)).toEqual({ ok: false, reason: 'malformed' });
    // a header length near 2^32 with a valid checksum: refused, not a RangeError from a wrapped offset
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(24, 0xfffffff0, true);
    new DataView(huge.buffer).setUint32(16, checksum(new Int32Array(huge.buffer, 24, (huge.length - 24) / 4)), true);
    expect(decodeEnvelope(huge.buffer)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('round-trips arbitrary sections and metadata', () => {
    const blob = encodeEnvelope({
      kind: 'itemknn',
      name: 'x',
      version: 'y',
      featureSpecHash: 0,
      meta: { nested: { ü: [1, 2] } },
      sections: [
        ['ABCD', Uint16Array.of(1, 2, 3)],
        ['EFGH', Float32Array.of()],
      ],
    });
    expect(blob.length % 8).toBe(0);
    const r = decodeEnvelope(blob.slice().buffer);
    if (!r.ok) throw new Error(r.reason);
    expect(r.envelope.meta).toEqual({ nested: { ü: [1, 2] } });
    expect(Array.from(r.envelope.sections.get('ABCD')!)).toEqual([1, 2, 3]);
    expect(r.envelope.sections.get('EFGH')!.length).toBe(0);
  });

  it('checksum changes on any single bit flip and on word swaps', () => {
    const words = Int32Array.from({ length: 257 }, (_, i) => Math.imul(i, 0x9e3779b1));
    const base = checksum(words);
    for (let i = 0; i < words.length; i += 17) {
      for (const bit of [0, 13, 31]) {
        const w = words.slice();
        w[i]! ^= 1 << bit;
        expect(checksum(w)).not.toBe(base);
      }
    }
    const swapped = words.slice();
    [swapped[3], swapped[5]] = [swapped[5]!, swapped[3]!];
    expect(checksum(swapped)).not.toBe(base);
  });
});
