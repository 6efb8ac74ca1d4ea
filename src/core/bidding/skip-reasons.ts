/**
 * Every reason a campaign (or the whole request) goes without a bid, as `x-attune-nobid` and a
 * debug request's explanation name it, with what it means. docs/bidding.md lists the same
 * (a test holds the two together).
 */
export const SKIP_REASONS = {
  // the request
  currency: 'no currency in the request’s `cur` has a rate in the table',
  floorCurrency: 'the floor’s currency (the imp’s, or a deal’s) has no rate in the table',
  // the campaign, for the whole request
  paused: 'the campaign is paused',
  schedule: 'outside the campaign’s start, end or hours',
  media: 'no creative of a media type the imp offers (and the campaign targets), or of an accepted mime type',
  country: 'the user’s country is not targeted',
  device: 'the device class is not targeted',
  os: 'the operating system is not targeted',
  domain: 'the site is not on the allow list, or is on the block list (or an app, when only sites are allowed)',
  bundle: 'the app is not on the allow list, or is on the block list (or a site, when only apps are allowed)',
  publisher: 'the publisher is not targeted',
  site: 'the request’s host is not on a site the campaign targets (`targeting.sites`), or names no site (or an app)',
  seat: 'the request’s `wseat`/`bseat` leaves out the campaign’s seat',
  badv: 'the advertiser’s domain is blocked (`badv`)',
  bapp: 'the advertised app is blocked (`bapp`)',
  // the campaign, per imp
  bcat: 'every fitting creative has a blocked category (`bcat`)',
  size: 'no creative of a size the imp offers',
  privateAuction: 'a private auction (`pmp.private_auction`) with no deal the campaign may bid in',
  dealsOnly: 'the campaign bids only in its deals, and the imp has none of them',
  dealNoPrice: 'a fixed-price deal (`at=3`) without a floor: no price to pay',
  frequencyCapNoUser: 'a capped campaign and no user to count the cap for',
  frequencyCap: 'the user has seen the campaign as often as its cap allows',
  budget: 'the daily or total budget is spent, or what is left (bids in flight counted) is less than this bid could cost',
  noCtrModel: 'a cpc/cpa goal with neither a pCTR model nor a default rate',
  noCvrModel: 'a cpa goal with neither a pCVR model nor a default rate',
  belowMin: 'the value is under the campaign’s `minCpm`',
  floor: 'the value is under the floor (the imp’s, or the deal’s)',
  pacing: 'even pacing held this bid back (the campaign is ahead of its plan)',
  // the route
  tmax: 'too little time was left to answer within `tmax`',
  noCampaigns: 'no campaign is active',
  notConfigured: 'SIGNING_SECRET is not set, so no notice could be signed',
  noEligible: 'nothing to bid on, and no campaign gave a reason',
  error: 'an unexpected error (logged); never a 5xx to an exchange',
} as const satisfies Record<string, string>;

export type SkipReason = keyof typeof SKIP_REASONS;
