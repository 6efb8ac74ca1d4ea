/**
 * A gzip bid body is capped before it is inflated, not only after: empty deflate blocks inflate
 * to nothing, so a body of them passed the cap on the inflated size while the isolate spent CPU
 * on every byte. Past MAX_BID_BODY compressed bytes the answer is 413, with or without a
 * Content-Length.
 */
import { describe, expect, it } from 'vitest';
import { MAX_BID_BODY } from '../../src/worker/bidding/bid-routes.ts';
import { bannerRequest, BID_HEADERS, campaign, postBid, setCampaigns } from './bidding-helpers.ts';
import { fetchWorker } from './helpers.ts';

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A valid gzip member: `empty` empty stored deflate blocks (5 bytes each), then `data` in a final stored block. */
function paddedGzip(data: Uint8Array, empty: number): Uint8Array {
  const out = new Uint8Array(10 + empty * 5 + 5 + data.length + 8);
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  let at = 10;
  for (let i = 0; i < empty; i++, at += 5) out.set([0, 0, 0, 0xff, 0xff], at); // BFINAL 0, stored, LEN 0, NLEN ~0
  out.set([1, data.length & 0xff, data.length >> 8, ~data.length & 0xff, (~data.length >> 8) & 0xff], at);
  out.set(data, at + 5);
  at += 5 + data.length;
  const view = new DataView(out.buffer);
  view.setUint32(at, crc32(data), true);
  view.setUint32(at + 4, data.length, true);
  return out;
}

const json = () => new TextEncoder().encode(JSON.stringify(bannerRequest()));

describe('gzip bid bodies', () => {
  it('past the cap in compressed bytes, inflating to a small request: 413, with a Content-Length or chunked', async () => {
    await setCampaigns([campaign({ id: 'gz' })]);
    // under the cap, the padding is valid gzip: it bids
    expect((await postBid(paddedGzip(json(), 1000), { 'content-encoding': 'gzip' })).status).toBe(200);
    const body = paddedGzip(json(), Math.ceil(MAX_BID_BODY / 5) + 1000);
    expect(body.length).toBeGreaterThan(MAX_BID_BODY);
    const declared = await postBid(body, { 'content-encoding': 'gzip' });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { code: string } }).error.code).toBe('body_too_large');
    // streamed in chunks, without a Content-Length
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < body.length; at += 16 * 1024) controller.enqueue(body.slice(at, at + 16 * 1024));
        controller.close();
      },
    });
    const res = await fetchWorker('/openrtb2/bid', {
      method: 'POST',
      headers: { ...BID_HEADERS, 'content-encoding': 'gzip' },
      body: chunked,
    });
    expect(res.status).toBe(413);
  });
});
