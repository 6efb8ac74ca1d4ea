/** Notice signatures: the synchronous MAC gives the same signatures WebCrypto gave (notices in flight stay valid). */
import { describe, expect, it } from 'vitest';
import {
  clickSignature,
  NOTICE_KINDS,
  noticeSigner,
  splitNotice,
  verifyClick,
  verifyNotice,
} from '../../src/core/bidding/notice-signature.ts';
import { clickTrackerUrl, withClickUrl } from '../../src/core/bidding/bid-response.ts';
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
  it("are the pieces of the HMAC WebCrypto computes, written into every bid's URLs, and verify per kind", async () => {
    const v = validateBidRequest(JSON.parse(REQUEST_BODY));
    if (!v.ok) throw new Error(v.reason);
    const out = runBidder({ ...bidderInput(v.request), signer: noticeSigner(SECRET) });
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
    for (const query of ['d=x&c=y', `d=${'z'.repeat(200)}&c=long`])
      expect(noticeSigner(SECRET).notices(query)).toEqual(await webCryptoPieces(query));
  });

  it('name the exchange in the signed part: re-pointed at another exchange, or stripped of it, they no longer verify', () => {
    const v = validateBidRequest(JSON.parse(REQUEST_BODY));
    if (!v.ok) throw new Error(v.reason);
    const bid = runBidder({ ...bidderInput(v.request), exchange: 'adx', signer: noticeSigner(SECRET) }).response!.seatbid![0]!.bid[0]!;
    const parts = (url: string) => splitNotice(url.slice(url.indexOf('?') + 1));
    expect(parts(bid.burl!).signed).toContain('&x=adx&');
    expect(verifyNotice(SECRET, parts(bid.burl!), 'billing')).toBe(true);
    expect(verifyNotice(SECRET, parts(bid.burl!.replace('x=adx', 'x=openx')), 'billing')).toBe(false);
    expect(verifyNotice(SECRET, parts(bid.burl!.replace('&x=adx', '')), 'billing')).toBe(false);
  });

  it('notices and clicks signed before exchanges were named (no x) still verify: fixtures the previous version wrote', () => {
    // written by the bidder before this change, for bench/micro/bid-fixtures.ts' request, with SECRET
    const before = {
      nurl: 'https://bid.example/openrtb2/win?d=d-1&c=travel&cr=travel-mrec&imp=1&bid=4.6543&bc=USD&t=1795460400&pub=pub-7&u=59a157f496e637ec&s=Jn5x2LM4g00xZQ&price=${AUCTION_PRICE}&mtw=${AUCTION_MIN_TO_WIN}&cur=${AUCTION_CURRENCY}&auc=${AUCTION_ID}',
      burl: 'https://bid.example/openrtb2/billing?d=d-1&c=travel&cr=travel-mrec&imp=1&bid=4.6543&bc=USD&t=1795460400&pub=pub-7&u=59a157f496e637ec&s=Lt0SHzrmEqmkKA&price=${AUCTION_PRICE}&cur=${AUCTION_CURRENCY}',
      lurl: 'https://bid.example/openrtb2/loss?d=d-1&c=travel&cr=travel-mrec&imp=1&bid=4.6543&bc=USD&t=1795460400&pub=pub-7&u=59a157f496e637ec&s=YUzeKJ1ZOsMivw&price=${AUCTION_PRICE}&mtw=${AUCTION_MIN_TO_WIN}&cur=${AUCTION_CURRENCY}&reason=${AUCTION_LOSS}&auc=${AUCTION_ID}',
      click: 'https://bid.example/openrtb2/click?d=d-1&c=travel&cr=travel-mrec&imp=1&t=1795460400&s=R-DGdR74zDqHGL5cHBIb-g',
    };
    const parts = (url: string) => splitNotice(url.slice(url.indexOf('?') + 1));
    for (const [i, kind] of NOTICE_KINDS.entries()) {
      const url = [before.nurl, before.burl, before.lurl][i]!;
      expect(verifyNotice(SECRET, parts(url), kind)).toBe(true);
      expect(verifyNotice(SECRET, parts(url.replace('&bc=USD', '&x=adx&bc=USD')), kind)).toBe(false); // nor can one be given an exchange
    }
    expect(verifyClick(SECRET, parts(before.click))).toBe(true);
    expect(verifyClick(SECRET, parts(before.click.replace('&s=', '&x=adx&s=')))).toBe(false);
  });

  it("click URLs: their own signature (not a notice's), escaped for HTML and VAST, raw in native JSON, encoded on request", () => {
    const q = 'd=d-1&c=cc&cr=cr1&imp=1&bid=1&bc=USD&t=1';
    const url = clickTrackerUrl('https://bid.example/openrtb2', q, clickSignature(SECRET, q));
    const parts = splitNotice(url.slice(url.indexOf('?') + 1));
    expect(verifyClick(SECRET, parts)).toBe(true);
    expect(verifyClick(SECRET, { ...parts, signed: `${q}x` })).toBe(false);
    for (const kind of NOTICE_KINDS) expect(verifyNotice(SECRET, parts, kind)).toBe(false);
    expect(withClickUrl('<a href="${CLICK_URL}">', 'banner', url)).toBe(`<a href="${url}">`); // valid before our names; a script reads it as is
    expect(withClickUrl('<ClickThrough>${CLICK_URL}</ClickThrough>', 'video', url)).toBe(
      `<ClickThrough>${url.replace(/&/g, '&amp;')}</ClickThrough>`,
    );
    expect(withClickUrl('<ClickThrough><![CDATA[${CLICK_URL}]]></ClickThrough>', 'video', url)).toBe(
      `<ClickThrough><![CDATA[${url}]]></ClickThrough>`,
    );
    expect(withClickUrl('<![CDATA[x]]><ClickThrough>${CLICK_URL}</ClickThrough>', 'video', url)).toContain('&amp;'); // after the CDATA: XML
    expect(withClickUrl('{"link":{"url":"${CLICK_URL}"}}', 'native', url)).toBe(`{"link":{"url":"${url}"}}`);
    expect(withClickUrl('x?dest=${CLICK_URL_ENC}', 'banner', url)).toBe(`x?dest=${encodeURIComponent(url)}`);
    expect(withClickUrl('no macro', 'banner', url)).toBe('no macro');
  });
});
