/**
 * The parts of the page URL and referrer a context reads, memoized per isolate: a site's traffic
 * lands on few URLs (the same campaign links, the same pages) from few referrers, so a repeat is
 * a table lookup instead of a scan. URLs that are unique by nature are not kept: a page URL with
 * an ad click id (one per click) and a referrer with a query string (a search's terms); they pay
 * a failed lookup and the scan. The tables are memo-table.ts's: found without hashing the whole
 * key, and bounded.
 */
import { pageHashes, referrerHostHash } from './features.ts';
import { clip, LIMITS } from './input-limits.ts';
import { memoCompute, memoGet, memoTable } from './memo-table.ts';
import { pageTypeOf, type PageType } from './page-type.ts';
import { landingClass, type ReferrerClass } from './referrer.ts';
import { campaignTags, type CampaignTags, splitUrl } from './url-parts.ts';

export interface PageParts {
  /** lower-case, clipped to a DNS name's length */
  readonly host: string;
  /** clipped to LIMITS.path */
  readonly path: string;
  readonly tags: CampaignTags;
  /** what the path implies (page-type.ts); a request may name another */
  readonly pageType: PageType;
  /** the visit's class if the URL alone decides it (referrer.ts `landingClass`) */
  readonly landing: ReferrerClass | null;
  /** the features' hashes of the tags, path and page type (features.ts): a repeat page looks them up */
  readonly hashes: Uint32Array;
}

const TABLE_LIMIT = 2048;
const pages = memoTable<PageParts>(TABLE_LIMIT);
const referrers = memoTable<ReferrerParts>(TABLE_LIMIT);

const withoutClickId = (p: PageParts): boolean => !p.tags.clickId;

function pageParts(url: string): PageParts {
  const page = splitUrl(url);
  const path = clip(page.path, LIMITS.path);
  const tags = campaignTags(page.query);
  const pageType = pageTypeOf(path);
  const landing = landingClass(tags.medium, tags.clickId);
  return { host: clip(page.host, LIMITS.host), path, tags, pageType, landing, hashes: pageHashes(tags, path, pageType) };
}

/** The referrer's host, and its feature's hash (features.ts): a repeat referrer looks it up. */
export interface ReferrerParts {
  readonly host: string;
  readonly hostHash: number;
}

const NO_REFERRER: ReferrerParts = { host: '', hostHash: referrerHostHash('') };

function referrerParts(referrer: string): ReferrerParts {
  const host = clip(splitUrl(referrer).host, LIMITS.host);
  return { host, hostHash: referrerHostHash(host) };
}

/** Host, path and campaign tags of a page URL (clipped to LIMITS.input first). */
export function pagePartsOf(url: string | undefined): PageParts {
  const key = clip(url ?? '', LIMITS.input);
  return memoGet(pages, key) ?? memoCompute(pages, key, pageParts, withoutClickId);
}

/** The referrer's host ('' without one), and its hash. */
export function referrerPartsOf(referrer: string | undefined): ReferrerParts {
  if (!referrer) return NO_REFERRER;
  const key = clip(referrer, LIMITS.input);
  return memoGet(referrers, key) ?? memoCompute(referrers, key, referrerParts, () => !key.includes('?'));
}
