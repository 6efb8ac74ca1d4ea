/**
 * Boundary schemas of the bidding API (zod/mini): campaigns and FX rates as the admin API
 * stores them, and the body of `/v1/bid-adjust`. The core reads the parsed values as its own
 * plain types (`Campaign`, `RatesTable`).
 */
import * as z from 'zod/mini';
import { MAX_CAMPAIGNS } from '../../core/bidding/campaign.ts';
import { siteId } from '../sites/site-schema.ts';

const id = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" or "-", at most 64'));
const money = z.number().check(z.gte(0), z.refine(Number.isFinite, 'must be finite'));
const multiplier = z.number().check(z.gte(0), z.lte(100));
const strings = (max = 1000) => z.array(z.string().check(z.minLength(1), z.maxLength(256))).check(z.maxLength(max));
const allowBlock = z.object({ allow: z.optional(strings()), block: z.optional(strings()) });
const media = z.enum(['banner', 'video', 'audio', 'native']);
const modelName = z.string().check(z.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'a model name'));
const rate = z.number().check(z.gte(0), z.lte(1));
/** how many sites one campaign's `targeting.sites` may name */
export const MAX_TARGET_SITES = 100;

export const Creative = z.object({
  id,
  media,
  w: z.optional(z.number().check(z.int(), z.gte(1))),
  h: z.optional(z.number().check(z.int(), z.gte(1))),
  adm: z.string().check(z.minLength(1), z.maxLength(64 * 1024)),
  cat: z.optional(strings(32)),
  mime: z.optional(z.string()),
  /** the landing page the ad's `${CLICK_URL}` leads to, through our click tracker */
  clickUrl: z.optional(z.string().check(z.maxLength(2048), z.regex(/^https?:\/\/[^\s"'<>]+$/, 'an http(s) URL'))),
});

export const Campaign = z.object({
  id,
  status: z._default(z.enum(['active', 'paused']), 'active'),
  adomain: z.string().check(z.minLength(3), z.maxLength(253)),
  bundle: z.optional(z.string()),
  seat: z.optional(id),
  budget: z.object({ daily: money, total: z.optional(money) }),
  schedule: z.optional(
    z.object({
      start: z.optional(z.number()),
      end: z.optional(z.number()),
      hours: z.optional(z.array(z.number().check(z.int(), z.gte(0), z.lte(23)))),
    }),
  ),
  pacing: z._default(z.enum(['even', 'asap']), 'even'),
  bid: z.object({
    goal: z.enum(['cpm', 'cpc', 'cpa']),
    value: money,
    ctrModel: z.optional(modelName),
    cvrModel: z.optional(modelName),
    defaultCtr: z.optional(rate),
    defaultCvr: z.optional(rate),
    minCpm: z._default(money, 0),
    maxCpm: money,
  }),
  modifiers: z.optional(
    z.object({
      geo: z.optional(z.record(z.string(), multiplier)),
      device: z.optional(z.record(z.string(), multiplier)),
      daypart: z.optional(
        z.object({
          night: z.optional(multiplier),
          morning: z.optional(multiplier),
          afternoon: z.optional(multiplier),
          evening: z.optional(multiplier),
        }),
      ),
      segment: z.optional(z.record(z.string(), multiplier)),
    }),
  ),
  targeting: z._default(
    z.object({
      media: z.optional(z.array(media)),
      countries: z.optional(strings()),
      devices: z.optional(strings()),
      os: z.optional(strings()),
      domains: z.optional(allowBlock),
      bundles: z.optional(allowBlock),
      publishers: z.optional(strings()),
      /** attune site ids (docs/sites.md); need not exist yet: a site created later is targeted then */
      sites: z.optional(z.array(siteId).check(z.minLength(1), z.maxLength(MAX_TARGET_SITES))),
      deals: z.optional(strings()),
      dealsOnly: z.optional(z.boolean()),
    }),
    {},
  ),
  frequencyCap: z.optional(z.object({ count: z.number().check(z.int(), z.gte(1)), hours: z.number().check(z.gt(0), z.lte(24 * 30)) })),
  creatives: z.array(Creative).check(z.minLength(1), z.maxLength(64)),
});
export type CampaignInput = z.infer<typeof Campaign>;

/**
 * Rules a new write must follow but a stored list is not held to: they came after lists were
 * stored, and a stored list that fails validation turns off all bidding (and every single
 * campaign write) until it is replaced. The field named is relative to the campaign.
 */
export function campaignProblem(c: CampaignInput): { field: string; message: string } | null {
  if (c.bid.minCpm > c.bid.maxCpm) return { field: 'bid.minCpm', message: 'minCpm must not exceed maxCpm' };
  // the click tracker sends visitors there: an http(s) URL a browser can open, nothing else
  const badClick = c.creatives.findIndex((x) => x.clickUrl !== undefined && !isHttpUrl(x.clickUrl));
  if (badClick >= 0) return { field: `creatives[${badClick}].clickUrl`, message: 'must be an absolute http(s) URL with a host' };
  const w = c.schedule;
  if (w?.start !== undefined && w.end !== undefined && !(w.end > w.start))
    return { field: 'schedule.end', message: 'end must be after start' };
  return null;
}

/** Whether `s` parses as an absolute http: or https: URL with a host (not `http://[x`, a bad port, `http:/x`). */
export function isHttpUrl(s: string): boolean {
  const u = URL.parse(s);
  return u !== null && (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && /^https?:\/\//i.test(s);
}

export const CampaignList = z.array(Campaign).check(
  z.maxLength(MAX_CAMPAIGNS),
  z.refine((list) => new Set(list.map((c) => c.id)).size === list.length, 'campaign ids must be unique'),
);

export const RatesTable = z.object({
  base: z.literal('USD'),
  rates: z.record(z.string().check(z.regex(/^[A-Z]{3}$/, 'ISO 4217 code')), z.number().check(z.gt(0))),
});

export const BidAdjustRequest = z.object({
  campaign: id,
  /** the OpenRTB site/app/device/user as in a bid request, and the imp being priced */
  site: z.optional(z.record(z.string(), z.unknown())),
  app: z.optional(z.record(z.string(), z.unknown())),
  device: z.optional(z.record(z.string(), z.unknown())),
  user: z.optional(z.record(z.string(), z.unknown())),
  imp: z._default(z.record(z.string(), z.unknown()), {}),
  /** the ad server's own base bid (CPM) the multiplier applies to */
  baseCpm: z.optional(money),
});
