/**
 * Requests to the admin API (bearer `ADMIN_TOKEN`, sometimes wrong or missing): campaigns and FX
 * rates, bandit tests and their actions, any method on admin paths. Models: model-requests.ts;
 * the admin page: ui-requests.ts.
 */
import fc from 'fast-check';
import { authorization, headers, METHODS, queryString, randomBody, request, segment, shortText } from './arbitraries.ts';
import { ADMIN_AUTH, CAMPAIGN_IDS, CAMPAIGNS, EXPERIMENTS, MODELS } from './fixtures.ts';
import type { FuzzRequest } from './harness.ts';
import { deepNesting, jsonBody } from './json-arbitraries.ts';

/** The admin token most of the time; otherwise a wrong one, none, or another scheme. */
const adminAuth = fc.oneof(
  { weight: 9, arbitrary: fc.constant(ADMIN_AUTH) },
  { weight: 1, arbitrary: authorization(['test-admin-token', 'test-partner-a']) },
);
export const adminHeaders = (contentType = 'application/json') =>
  headers(
    adminAuth.map((a) => [
      ['authorization', a],
      ['content-type', contentType],
    ]),
  );

// ---- campaigns and FX rates

const id = fc.oneof(fc.constantFrom(...CAMPAIGN_IDS), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,16}$/));
const money = fc.oneof(fc.double({ min: 0, max: 1e4, noNaN: true }), fc.constantFrom(0, 1e308));
const multiplier = fc.double({ min: 0, max: 100, noNaN: true });

const creative = fc.record(
  {
    id,
    media: fc.constantFrom('banner', 'video', 'audio', 'native'),
    w: fc.integer({ min: 1, max: 2000 }),
    h: fc.integer({ min: 1, max: 2000 }),
    adm: fc.oneof(
      fc.constantFrom('<a href="${CLICK_URL}">x</a>', '<VAST version="4.0"><![CDATA[${CLICK_URL:URLENCODE}]]></VAST>', '${AUCTION_PRICE}'),
      shortText(200),
    ),
    cat: fc.array(shortText(10), { maxLength: 3 }),
    mime: fc.constantFrom('video/mp4', 'image/png'),
    clickUrl: fc.oneof(fc.webUrl(), fc.constantFrom('http://[x', 'https://a.example:99999/', 'https://ü.example/ä')),
  },
  { requiredKeys: ['id', 'media', 'adm'] },
);

export const campaign = fc.record(
  {
    id,
    status: fc.constantFrom('active', 'paused'),
    adomain: fc.oneof(fc.domain(), shortText(10)),
    bundle: shortText(20),
    seat: id,
    budget: fc.record({ daily: money, total: money }, { requiredKeys: ['daily'] }),
    schedule: fc.record(
      { start: fc.integer(), end: fc.integer(), hours: fc.array(fc.integer({ min: 0, max: 23 }), { maxLength: 5 }) },
      { requiredKeys: [] },
    ),
    pacing: fc.constantFrom('even', 'asap'),
    bid: fc.record(
      {
        goal: fc.constantFrom('cpm', 'cpc', 'cpa'),
        value: money,
        ctrModel: fc.constantFrom(MODELS.ctr, MODELS.unknown, MODELS.corrupt, MODELS.hero),
        cvrModel: fc.constantFrom(MODELS.cvr, MODELS.gone),
        defaultCtr: fc.double({ min: 0, max: 1, noNaN: true }),
        defaultCvr: fc.double({ min: 0, max: 1, noNaN: true }),
        minCpm: money,
        maxCpm: money,
      },
      { requiredKeys: ['goal', 'value', 'maxCpm'] },
    ),
    modifiers: fc.record(
      {
        geo: fc.dictionary(fc.constantFrom('USA', 'DEU', '__proto__'), multiplier),
        device: fc.dictionary(fc.constantFrom('mobile', 'desktop'), multiplier),
        daypart: fc.record({ night: multiplier, morning: multiplier }, { requiredKeys: [] }),
        segment: fc.dictionary(shortText(10), multiplier),
      },
      { requiredKeys: [] },
    ),
    targeting: fc.record(
      {
        media: fc.array(fc.constantFrom('banner', 'video', 'audio', 'native'), { maxLength: 4 }),
        countries: fc.array(fc.constantFrom('USA', 'DEU'), { maxLength: 2 }),
        domains: fc.record(
          { allow: fc.array(fc.domain(), { maxLength: 2 }), block: fc.array(fc.domain(), { maxLength: 2 }) },
          { requiredKeys: [] },
        ),
        deals: fc.array(fc.constantFrom('deal-1', 'deal-2'), { maxLength: 2 }),
        dealsOnly: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
    frequencyCap: fc.record({ count: fc.integer({ min: 1, max: 10 }), hours: fc.double({ min: 0.01, max: 720, noNaN: true }) }),
    creatives: fc.array(creative, { minLength: 1, maxLength: 3 }),
  },
  { requiredKeys: ['id', 'adomain', 'budget', 'bid', 'creatives'] },
);

const campaignPath = segment([...CAMPAIGN_IDS]);

export const campaignRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  request({
    method: fc.constant('PUT'),
    path: fc.constant('/admin/campaigns'),
    headers: adminHeaders(),
    body: jsonBody(fc.oneof(fc.array(campaign, { maxLength: 3 }), fc.constant(CAMPAIGNS))),
  }),
  campaignPath.chain((p) =>
    request({
      method: fc.constant('PUT'),
      path: fc.constant(`/admin/campaigns/${p}`),
      headers: adminHeaders(),
      body: jsonBody(campaign.map((c) => ({ ...c, id: decodeURIComponentSafe(p) }))),
    }),
  ),
  request({
    method: fc.constantFrom('GET', 'DELETE', 'GET'),
    path: fc.tuple(campaignPath, fc.constantFrom('', '/ledger')).map(([p, s]) => `/admin/campaigns/${p}${s}`),
    headers: adminHeaders(),
  }),
  request({ method: fc.constant('GET'), path: fc.constantFrom('/admin/campaigns', '/admin/fx-rates'), headers: adminHeaders() }),
  request({
    method: fc.constant('PUT'),
    path: fc.constant('/admin/fx-rates'),
    headers: adminHeaders(),
    body: jsonBody(
      fc.record({
        base: fc.constantFrom('USD', 'EUR'),
        rates: fc.dictionary(
          fc.constantFrom('EUR', 'GBP', 'JPY', 'usd', 'XXXX'),
          fc.oneof(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), fc.constantFrom(0, -1, 1e308)),
        ),
      }),
    ),
  }),
);

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// ---- bandit tests

export const experimentKey = fc.oneof(fc.constantFrom(...Object.values(EXPERIMENTS)), fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,12}$/));
const payload = fc.oneof(
  fc.record({ type: fc.constant('text'), value: fc.string({ maxLength: 50 }) }),
  fc.record({ type: fc.constant('html'), value: fc.constantFrom('<b>x</b>', '<script>alert(1)</script>', '</textarea>') }),
  fc.record({
    type: fc.constant('json'),
    value: fc.oneof({ weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) }, { weight: 1, arbitrary: deepNesting }),
  }),
  fc.record({ type: fc.constant('url'), value: fc.oneof(fc.webUrl(), fc.constant('javascript:alert(1)')) }),
);

export const experimentConfig = fc.record(
  {
    key: experimentKey,
    name: shortText(40),
    description: fc.string({ maxLength: 100 }),
    arms: fc.uniqueArray(
      fc.record(
        { key: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,8}$/), name: shortText(20), payload },
        { requiredKeys: ['key', 'payload'] },
      ),
      {
        minLength: 2,
        maxLength: 5,
        selector: (a) => a.key,
      },
    ),
    goals: fc.array(fc.constantFrom('click', 'purchase', 'signup'), { minLength: 1, maxLength: 3 }),
    attributionWindowSeconds: fc.integer({ min: 1, max: 30 * 86400 }),
    traffic: fc.double({ min: 0, max: 1, noNaN: true }),
    targeting: fc.record(
      {
        segments: fc.array(fc.constantFrom('mobile', 'pro'), { maxLength: 2 }),
        context: fc.record({ device: fc.constant(['mobile']), country: fc.constant(['US']) }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ),
    algorithm: fc.record(
      {
        name: fc.constantFrom('thompson', 'top-two-thompson', 'ucb1', 'epsilon-greedy', 'linear-thompson'),
        floor: fc.double({ min: 0, max: 0.3, noNaN: true }),
        epsilon: fc.double({ min: 0, max: 1, noNaN: true }),
        beta: fc.double({ min: 0, max: 1, noNaN: true }),
        draws: fc.integer({ min: 100, max: 20_000 }),
        bits: fc.integer({ min: 4, max: 14 }),
      },
      { requiredKeys: [] },
    ),
    schedule: fc.record({ start: fc.nat(), end: fc.nat() }, { requiredKeys: [] }),
    publishSeconds: fc.integer({ min: 1, max: 3600 }),
    sticky: fc.boolean(),
  },
  { requiredKeys: ['key', 'name', 'arms', 'goals'] },
);

export const ACTIONS = ['launch', 'pause', 'resume', 'stop', 'archive', 'rerandomize'];
export const keyPath = segment([...Object.values(EXPERIMENTS)]);

export const experimentRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  request({
    method: fc.constant('POST'),
    path: fc.constant('/admin/experiments'),
    headers: adminHeaders(),
    body: jsonBody(experimentConfig),
  }),
  request({
    method: fc.constant('GET'),
    path: fc.constant('/admin/experiments'),
    query: fc.option(queryString(['status'], fc.constantFrom('running', 'draft', 'x', '')), { nil: undefined }),
    headers: adminHeaders(),
  }),
  keyPath.chain((k) =>
    request({
      method: fc.constant('PUT'),
      path: fc.constant(`/admin/experiments/${k}`),
      headers: adminHeaders(),
      body: jsonBody(experimentConfig.map((c) => ({ ...c, key: k }))),
    }),
  ),
  request({
    method: fc.constant('GET'),
    path: fc
      .tuple(
        keyPath,
        fc.constantFrom('', '/versions', '/results', '/versions/1', '/versions/0', '/versions/x', '/versions/1e3', '/versions/99'),
      )
      .map(([k, s]) => `/admin/experiments/${k}${s}`),
    query: fc.option(queryString(['format', 'history'], fc.constantFrom('csv', 'json', '1', '0')), { nil: undefined }),
    headers: adminHeaders(),
  }),
  request({
    method: fc.constant('POST'),
    path: fc.tuple(keyPath, segment(ACTIONS)).map(([k, a]) => `/admin/experiments/${k}/${a}`),
    headers: adminHeaders(),
    body: fc.option(jsonBody(fc.record({ winner: fc.constantFrom('a', 'b', 'zz') }, { requiredKeys: [] })), { nil: undefined }),
  }),
);

/** Any method on an admin path, with or without the token. */
export const adminAnyMethod: fc.Arbitrary<FuzzRequest> = request({
  method: fc.constantFrom(...METHODS),
  path: fc.constantFrom(
    '/admin',
    '/admin/',
    '/admin/models',
    '/admin/models/fz-hero',
    '/admin/campaigns',
    '/admin/experiments',
    '/admin/nothing',
    '/admin/fx-rates',
  ),
  headers: adminHeaders(),
  body: fc.option(randomBody, { nil: undefined }),
});
