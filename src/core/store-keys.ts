/**
 * Where everything lives in the key-value store (Workers KV; wrangler's local KV for the Node
 * tools): one definition of each key, shared by the Worker, the trainers and the CLIs.
 *
 *   model/<name>/<version>                 a model's envelope blob, immutable (model-registry.ts)
 *   manifest/<name>                        a model's manifest: active version, history
 *   config/segments                        segment rules (docs/segments.md)
 *   config/page-rules                      proxy page rules (docs/proxy-mode.md)
 *   config/campaigns                       the campaign list (docs/bidding.md)
 *   config/fx-rates                        currency rates for bids and notices
 *   experiment/<key>                       a bandit test as it runs now (docs/experiments.md)
 *   experiment-version/<key>/<000007>      every saved version of it, immutable
 *   stats/conversions/<campaign>           a campaign's conversions per day and exchange, attributed from the log (docs/bidding.md)
 *   admin-session-revoked/<session id>     an admin page session signed out, until it would have expired (TTL)
 *   sites/<id>                             a site: its hostnames, origin, allowed origins, token hashes (docs/sites.md)
 *   site-host/<hostname>                   the id of the site a hostname belongs to (a JSON string)
 *   site-data/<id>/<any key above>         a named site's own models, rules and experiments
 *
 * The default site (`default`, the only one until sites are configured) keeps the keys above
 * unprefixed, byte for byte as before sites existed; a named site's keys are the same keys
 * under `siteDataPrefix(id)`. Sites, site hosts, campaigns, FX rates and admin sessions are
 * deployment-wide and never prefixed.
 */
import { DEFAULT_SITE } from './log-layout.ts';

export const MODEL_PREFIX = 'model/';
export const MANIFEST_PREFIX = 'manifest/';
export const modelKey = (name: string, version: string): string => `${MODEL_PREFIX}${name}/${version}`;
export const manifestKey = (name: string): string => `${MANIFEST_PREFIX}${name}`;

/** JSON configs, each one key. */
export const CONFIG_KEYS = {
  segments: 'config/segments',
  pageRules: 'config/page-rules',
  campaigns: 'config/campaigns',
  fxRates: 'config/fx-rates',
} as const;

export const EXPERIMENT_PREFIX = 'experiment/';
export const experimentKey = (key: string): string => `${EXPERIMENT_PREFIX}${key}`;
/** The versions of one experiment, listed in order (zero-padded). */
export const experimentVersionPrefix = (key: string): string => `experiment-version/${key}/`;
export const experimentVersionKey = (key: string, version: number): string =>
  `${experimentVersionPrefix(key)}${String(version).padStart(6, '0')}`;

/** A campaign's conversions, attributed to its bids from the log by `npm run campaigns:conversions`. */
export const campaignConversionsKey = (campaign: string): string => `stats/conversions/${campaign}`;

/** A signed-out admin page session (shared/admin-session.ts), kept with a TTL until its cookie would have expired. */
export const revokedSessionKey = (sessionId: string): string => `admin-session-revoked/${sessionId}`;

export const SITE_PREFIX = 'sites/';
export const siteKey = (id: string): string => `${SITE_PREFIX}${id}`;
export const siteHostKey = (hostname: string): string => `site-host/${hostname}`;
/** What every key of site `id` starts with: '' for the default site, whose keys are today's. */
export const siteDataPrefix = (id: string): string => (id === DEFAULT_SITE ? '' : `site-data/${id}/`);
