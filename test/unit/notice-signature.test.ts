/** Notice signatures: the synchronous MAC gives the same signatures WebCrypto gave (notices in flight stay valid). */
import { describe, expect, it } from 'vitest';
import { NOTICE_KINDS, noticeSigner, splitNotice, verifyNotice } from '../../src/core/bidding/notice-signature.ts';
import { runBidder } from '../../src/core/bidding/bidder.ts';
import { validateBidRequest } from '../../src/core/bidding/openrtb-validate.ts';
import { bidderInput, REQUEST_BODY } from '../../bench/micro/bid-fixtures.ts';

const SECRET = 'test-profile-secret-0123456789abcdef';

/** The signature pieces as the Worker computed them before: WebCrypto HMAC, base64url through btoa. */
async function webCryptoPieces(query: string): Promise<string[]> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`notice|${query}`)));
  const size = Math.floor(mac.length / NOTICE_KINDS.length);
  return NOTICE_KINDS.map((_, i) => Buffer.from(mac.subarray(i * size, (i + 1) * size)).toString('base64url'));
}

describe('notice signatures', () => {
  it('are the pieces of the HMAC WebCrypto computes, written into every bid\'s URLs, and verify per kind', async () => {
    const v = validateBidRequest(JSON.parse(REQUEST_BODY));
    if (!v.ok) throw new Error(v.reason);
    const out = runBidder({ ...bidderInput(v.request), signNotice: noticeSigner(SECRET) });
    const bids = out.response!.seatbid!.flatMap((s) => s.bid);
    expect(bids).toHaveLength(5);
    for (const bid of bids) {
      const query = out.decisions.find((d) => d.decisionId === bid.id)!.noticeQuery;
      const want = await webCryptoPieces(query);
      for (const [i, url] of [bid.nurl!, bid.burl!, bid.lurl!].entries()) {
        const parts = splitNotice(url.slice(url.indexOf('?') + 1));
        expect(parts.signed).toBe(query);
        expect(parts.signature).toBe(want[i]);
        for (const [k, kind] of NOTICE_KINDS.entries()) expect(verifyNotice(SECRET, parts, kind)).toBe(k === i);
        expect(verifyNotice('another-secret', parts, NOTICE_KINDS[i]!)).toBe(false);
      }
    }
    for (const query of ['d=x&c=y', `d=${'z'.repeat(200)}&c=long`]) expect(noticeSigner(SECRET)(query)).toEqual(await webCryptoPieces(query));
  });
});
