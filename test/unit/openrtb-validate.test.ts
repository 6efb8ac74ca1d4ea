import { describe, expect, it } from 'vitest';
import { MAX_IMPS, parseOpenRtbVersion, validateBidRequest } from '../../src/core/bidding/openrtb-validate.ts';
import { HAS_SHARED_DATA, INLINE_BREAKS, loadCorpus, STRUCTURAL_BREAKS } from './openrtb-corpus.ts';

const corpus = HAS_SHARED_DATA ? loadCorpus() : [];

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

describe.skipIf(!HAS_SHARED_DATA)('OpenRTB structural validation over the shared corpus', () => {
  it('reads every bid request the manifest lists', () => {
    expect(corpus.length).toBe(156);
    // every expected break names a file that exists
    for (const f of Object.keys(STRUCTURAL_BREAKS))
      expect(
        corpus.some((c) => c.file === f),
        f,
      ).toBe(true);
  });

  it.each(corpus.map((c) => [c.file, c] as const))('%s', (_name, c) => {
    const r = validateBidRequest(parse(c.body));
    if (c.expectField === null) {
      expect(r.ok, r.ok ? '' : `${r.field}: ${r.reason}`).toBe(true);
    } else {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.field).toBe(c.expectField);
    }
  });

  it('accepts everything Prebid Server itself accepts, except a placeholder native string', () => {
    const rejected = corpus.filter((c) => c.pbsCode === 200 && c.expectField !== null);
    expect(rejected.map((c) => c.file)).toEqual([]);
  });

  it.each(INLINE_BREAKS.map((b) => [...b]))('rejects %s', (_name, text, field) => {
    const r = validateBidRequest(text === '' ? undefined : parse(text));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.field).toBe(field);
  });
});

describe('versions and up-conversion', () => {
  it('speaks 2.6 and 2.5, refuses others', () => {
    expect(parseOpenRtbVersion(null)).toBe('2.6');
    expect(parseOpenRtbVersion('2.5')).toBe('2.5');
    expect(parseOpenRtbVersion('2.6.1')).toBe('2.6');
    expect(parseOpenRtbVersion('3.0')).toBeNull();
  });

  it('moves 2.5 ext gdpr/consent to their 2.6 fields', () => {
    const r = validateBidRequest(
      {
        id: 'r',
        imp: [{ id: '1', banner: { w: 1, h: 1 } }],
        regs: { ext: { gdpr: 1, us_privacy: '1YNN' } },
        user: { ext: { consent: 'CO-abc' } },
      },
      '2.5',
    );
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.request.regs?.gdpr).toBe(1);
      expect(r.request.regs?.us_privacy).toBe('1YNN');
      expect(r.request.user?.consent).toBe('CO-abc');
    }
  });

  it('accepts exchange-specific enum values (≥ 500) in native requests', () => {
    const native = { context: 500, contextsubtype: 501, plcmttype: 500, assets: [{ id: 1, data: { type: 500 } }] };
    expect(validateBidRequest({ id: 'r', imp: [{ id: '1', native: { request: JSON.stringify(native) } }] }).ok).toBe(true);
  });

  it('accepts a logo image asset (type 2: Native 1.0/1.1, deprecated but still sent in 1.2), refuses type 4', () => {
    const req = (type: number, wrap: boolean) => {
      const native = { ver: wrap ? '1.1' : '1.2', assets: [{ id: 1, img: { type, w: 50, h: 50 } }] };
      return { id: 'r', imp: [{ id: '1', native: { request: JSON.stringify(wrap ? { native } : native) } }] };
    };
    expect(validateBidRequest(req(2, true)).ok).toBe(true);
    expect(validateBidRequest(req(2, false)).ok).toBe(true);
    const bad = validateBidRequest(req(4, false));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.field).toBe('imp[0].native.request.assets[0].img.type');
  });

  it('answers a repeated native template the same way, and a broken one each time with its imp', () => {
    const good = JSON.stringify({ ver: '1.2', assets: [{ id: 1, required: 1, title: { len: 90 } }] });
    const bad = JSON.stringify({ ver: '1.2', assets: [{ id: 1, title: { len: 90 } }, { title: { len: 20 } }] });
    const req = (imps: string[]) => ({ id: 'r', imp: imps.map((request, i) => ({ id: String(i + 1), native: { request } })) });
    for (let round = 0; round < 3; round++) {
      expect(validateBidRequest(req([good, good])).ok).toBe(true);
      const r = validateBidRequest(req([good, bad]));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.field).toBe('imp[1].native.request.assets[1].id');
      const first = validateBidRequest(req([bad]));
      if (!first.ok) expect(first.field).toBe('imp[0].native.request.assets[1].id');
    }
  });
});

describe('request limits', () => {
  it('refuses more than MAX_IMPS imps, naming imp, so a small gzipped body cannot buy a huge answer', () => {
    const request = (n: number) => ({
      id: 'r',
      site: { page: 'https://x.example/' },
      imp: Array.from({ length: n }, (_, i) => ({ id: String(i + 1), banner: { w: 300, h: 250 } })),
    });
    expect(validateBidRequest(request(MAX_IMPS)).ok).toBe(true);
    expect(validateBidRequest(request(MAX_IMPS + 1))).toMatchObject({ ok: false, field: 'imp' });
  });
});
