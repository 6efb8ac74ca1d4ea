/**
 * Compute time of one 5-imp OpenRTB request through the pure core (target: under 50 µs median):
 * structural validation, request facts → shared features per imp, pCTR/pCVR for 6 campaigns,
 * floors with currency, a private deal, first-price shading, the BidResponse with notice URLs,
 * their signatures (HMAC-SHA256 per bid) and the answer's serialization: everything the
 * Worker computes for the request. `JSON.parse` of the same body runs beside it as the
 * baseline every bidder pays anyway.
 * A debug request's run (the same, writing its explanation) is timed beside the ordinary one.
 * Then the same cases in interleaved rounds (bench/micro/interleaved.ts), whose figures hold up
 * on this VM's swings in speed. Correctness is checked before timing. Run: npm run bench:bidder
 */
import { bench, do_not_optimize, run, summary } from 'mitata';
import type { BidRequest } from 'iab-openrtb/v26';
import { runBidder } from '../../src/core/bidding/bidder.ts';
import { validateBidRequest } from '../../src/core/bidding/openrtb-validate.ts';
import { bidderInput, REQUEST_BODY } from './bid-fixtures.ts';
import { interleaved, printInterleaved } from './interleaved.ts';
import { noticeSigner } from '../../src/core/bidding/notice-signature.ts';

const signer = noticeSigner('bench-profile-secret-0123456789abcdef');

// correctness first
const parsed = JSON.parse(REQUEST_BODY) as unknown;
const v = validateBidRequest(parsed);
if (!v.ok) throw new Error(`fixture invalid: ${v.field} ${v.reason}`);
const out = runBidder(bidderInput(v.request));
const bids = out.response?.seatbid?.flatMap((s) => s.bid) ?? [];
if (bids.length !== 5) throw new Error(`expected 5 bids, got ${bids.length}: ${JSON.stringify(out.skipped)}`);
for (const b of bids) if (!(b.price > 0) || !b.crid || !b.nurl) throw new Error(`bad bid ${JSON.stringify(b)}`);
const deal = bids.find((b) => b.impid === '5')!;
if (deal.dealid !== 'pmp-42' || deal.price < 4) throw new Error('deal bid wrong');
console.log('check: 5 bids,', bids.map((b) => `${b.impid}:${b.cid}@${b.price}`).join(' '), '\n');

const req = v.request as BidRequest;
const cases: Array<[string, () => unknown]> = [
  ['JSON.parse of the body (baseline)', () => do_not_optimize(JSON.parse(REQUEST_BODY))],
  ['validate (5 imps, native 1.2 parsed)', () => do_not_optimize(validateBidRequest(JSON.parse(REQUEST_BODY)))],
  ['bid: features + models + pricing + response', () => do_not_optimize(runBidder(bidderInput(req)))],
  // a debug request (`test: 1`): the same run, writing its explanation as it decides
  ['bid, explained (a debug request)', () => do_not_optimize(runBidder({ ...bidderInput(req), explain: true }))],
  [
    'parse + validate + bid (whole compute)',
    () => {
      const r = validateBidRequest(JSON.parse(REQUEST_BODY));
      return do_not_optimize(r.ok ? runBidder(bidderInput(r.request)) : null);
    },
  ],
  [
    'whole: parse + validate + bid, notices signed, + JSON.stringify',
    () => {
      const r = validateBidRequest(JSON.parse(REQUEST_BODY));
      return do_not_optimize(r.ok ? JSON.stringify(runBidder({ ...bidderInput(r.request), signer }).response) : null);
    },
  ],
];
// Every case runs hot before any is timed: the first timed row otherwise pays for the JIT and
// the VM's clock ramping up.
for (let round = 0; round < 3; round++) for (const [, f] of cases) for (let k = 0; k < 3_000; k++) f();
summary(() => {
  for (const [name, f] of cases) bench(name, f);
});

const result = await run();
// medians, which mitata's table does not print: the machine is shared, so means carry scheduler noise
console.log('\nmedians:');
for (const b of result.benchmarks) {
  const st = b.runs[0]!.stats!;
  console.log(
    `  ${b.alias.padEnd(46)} p50 ${(st.p50 / 1000).toFixed(2).padStart(7)} µs   min ${(st.min / 1000).toFixed(2).padStart(7)} µs`,
  );
}
printInterleaved(
  interleaved(cases, 200, 50),
  'interleaved rounds (each round times every case within milliseconds; ratios are per round):',
);

console.log('\nreproduce: npm run bench:bidder');
