/**
 * The campaign admin API's part of the OpenAPI document (openapi-document.ts): campaigns, their
 * ledger and stats, FX rates. Request bodies come from the zod schemas that validate them
 * (bidding-schemas.ts); the answers the Worker builds itself are described here.
 */
import * as z from 'zod/mini';
import { SKIP_REASONS } from '../../core/bidding/skip-reasons.ts';
import { MAX_CAMPAIGNS } from '../../core/bidding/campaign.ts';
import { Campaign, RatesTable } from '../bidding/bidding-schemas.ts';
import { STATS_DAYS as KEEP_DAYS } from '../../core/bidding/campaign-stats.ts';

const schema = (s: z.ZodMiniType, io: 'input' | 'output') => z.toJSONSchema(s, { io, unrepresentable: 'any' });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (s: object) => ({ 'application/json': { schema: s } });
const error = (description: string) => ({ description, content: json(ref('Error')) });
const security = [{ adminToken: [] }];
const num = { type: 'number' };
const rate = { type: ['number', 'null'], description: 'null when its denominator is 0' };
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' } };

const COUNTS = {
  bids: { type: 'integer' },
  bidSpend: { ...num, description: 'the sum of the prices bid (money, not CPM)' },
  bidValue: { ...num, description: "the sum of the campaign's values of the bids" },
  wins: { type: 'integer', description: 'bids booked by a win or billing notice' },
  spend: { ...num, description: 'what the wins cost' },
  impressions: { type: 'integer', description: 'bids with a billing notice (the ad was shown)' },
  clicks: { type: 'integer' },
  conversions: { type: 'integer', description: 'from the log (`npm run campaigns:conversions`)' },
  conversionValue: num,
  saved: { ...num, description: 'Σ (value − price paid) over the wins whose value the ledger held' },
  wonValue: { ...num, description: 'Σ value over the same wins' },
};
const FIGURES = {
  type: 'object',
  properties: {
    ...COUNTS,
    winRate: rate,
    ecpm: { ...rate, description: '1000 × spend / wins' },
    ctr: { ...rate, description: 'clicks / wins' },
    cpc: rate,
    cpa: rate,
    avgBidCpm: rate,
    avgValueCpm: rate,
    shadingSavings: num,
    shadingSavingsShare: { ...rate, description: 'shadingSavings / wonValue' },
  },
};
const PER_EXCHANGE = { type: 'object', additionalProperties: ref('StatsFigures') };

export const campaignSchemas = {
  Campaign: schema(Campaign, 'input'),
  CampaignList: { type: 'array', items: ref('Campaign'), maxItems: MAX_CAMPAIGNS, description: 'campaign ids must be unique' },
  RatesTable: schema(RatesTable, 'input'),
  LedgerSnapshot: {
    type: 'object',
    properties: {
      day: { type: 'integer', description: 'UTC days since the epoch' },
      spent: { ...num, description: 'booked today (UTC)' },
      total: { ...num, description: 'booked all-time' },
      reserved: { ...num, description: 'what bids still waiting for their notices may cost (held at most 5 minutes)' },
      seen: { type: 'integer' },
      exchanges: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          properties: { spent: num, wins: { type: 'integer' }, total: num, totalWins: { type: 'integer' } },
        },
      },
    },
  },
  StatsFigures: FIGURES,
  StatsReport: {
    type: 'object',
    properties: {
      campaign: { type: 'string' },
      currency: { const: 'USD' },
      from: { type: 'string', format: 'date' },
      to: { type: 'string', format: 'date' },
      today: {
        type: 'object',
        description: "today's budget and pacing (UTC)",
        properties: {
          pacing: { enum: ['even', 'asap'] },
          daily: num,
          total: num,
          spentToday: num,
          spentTotal: num,
          reserved: num,
          plan: { ...num, description: 'the even line: daily budget × the share of the day gone by' },
          left: num,
        },
      },
      conversions: {
        type: ['object', 'null'],
        properties: { asOf: { type: 'string', format: 'date-time' }, window: { type: 'string' } },
        description: 'when the log job last attributed conversions, and its window; null when it never has',
      },
      totals: ref('StatsFigures'),
      byExchange: PER_EXCHANGE,
      byDay: {
        type: 'array',
        items: {
          allOf: [
            ref('StatsFigures'),
            { type: 'object', properties: { day: { type: 'string', format: 'date' }, byExchange: PER_EXCHANGE } },
          ],
        },
      },
    },
  },
};

export const campaignPaths = {
  '/admin/campaigns': {
    get: {
      summary: 'All campaigns',
      security,
      responses: {
        '200': {
          description: 'The stored list',
          content: json({ type: 'object', properties: { campaigns: { type: 'array', items: ref('Campaign') } } }),
        },
        '401': error('No admin token'),
        '409': error('The stored list does not validate (edited by hand): replace it with PUT'),
      },
    },
    put: {
      summary: 'Replace the whole campaign list',
      security,
      requestBody: { required: true, content: json(ref('CampaignList')) },
      responses: {
        '200': {
          description: 'Saved (through the one campaign writer)',
          content: json({ type: 'object', properties: { campaigns: { type: 'array', items: ref('Campaign') } } }),
        },
        '400': error('Invalid; `error.field` names the field (`[2].bid.maxCpm`)'),
        '503': error('The writer was unreachable: the write may or may not have landed'),
      },
    },
  },
  '/admin/campaigns/{id}': {
    parameters: [id],
    get: {
      summary: 'One campaign',
      security,
      responses: { '200': { description: 'The campaign', content: json(ref('Campaign')) }, '404': error('No such campaign') },
    },
    put: {
      summary: 'Create or replace one campaign (its `id` must match the path)',
      security,
      requestBody: { required: true, content: json(ref('Campaign')) },
      responses: {
        '200': { description: 'Replaced', content: json(ref('Campaign')) },
        '201': { description: 'Created', content: json(ref('Campaign')) },
        '400': error('Invalid; `error.field` names the field'),
        '409': error('The stored list does not validate'),
      },
    },
    delete: { summary: 'Delete one campaign', security, responses: { '204': { description: 'Deleted' } } },
  },
  '/admin/campaigns/{id}/ledger': {
    parameters: [id],
    get: {
      summary: "The campaign's spend today and all-time, what is held for bids in flight, and per exchange",
      security,
      responses: { '200': { description: 'The ledger', content: json(ref('LedgerSnapshot')) } },
    },
  },
  '/admin/campaigns/{id}/stats': {
    parameters: [
      id,
      {
        name: 'days',
        in: 'query',
        schema: { type: 'integer', minimum: 1, maximum: KEEP_DAYS, default: KEEP_DAYS },
        description: 'the last N UTC days, today included',
      },
      { name: 'format', in: 'query', schema: { enum: ['json', 'csv'], default: 'json' } },
    ],
    get: {
      summary:
        'Bids, wins, win rate, impressions, spend, eCPM, clicks, CTR, CPC, conversions, CPA and shading savings, per exchange and per day',
      description:
        'Live from the campaign ledger, except conversions, which a log job attributes (docs/bidding.md, "Campaign stats"). ' +
        '`format=csv`: one line per day and exchange, then the period per exchange and in total.',
      security,
      responses: {
        '200': { description: 'The report', content: { ...json(ref('StatsReport')), 'text/csv': { schema: { type: 'string' } } } },
        '400': error('`days` or `format` invalid, or an unknown parameter (named in `error.field`)'),
        '404': error('No such campaign'),
      },
    },
  },
  '/admin/fx-rates': {
    get: {
      summary: 'The currency table (units per USD)',
      security,
      responses: { '200': { description: 'The table, or null', content: json(ref('RatesTable')) } },
    },
    put: {
      summary: 'Replace the currency table',
      security,
      requestBody: { required: true, content: json(ref('RatesTable')) },
      responses: { '200': { description: 'Saved', content: json(ref('RatesTable')) }, '400': error('Invalid') },
    },
  },
};

/** `x-attune-nobid` values (and `ext.debug.nobid`, comma-separated), for the bid endpoint's description. */
export const NOBID_REASONS = Object.keys(SKIP_REASONS).join(', ');
