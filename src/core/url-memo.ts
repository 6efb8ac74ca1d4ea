/**
 * The parts of the page URL and referrer a context reads, memoized per isolate: a site's traffic
 * lands on few URLs (the same campaign links, the same pages) from few referrers, so a repeat is
 * a table lookup instead of a scan. URLs that are unique by nature are not kept: a page URL with
 * an ad click id (one per click) and a referrer with a query string (a search's terms); they pay
 * a failed lookup and the scan. The tables are memo-table.ts's: found without hashing the whole
 * key, and bounded.
 */
import { clip, LIMITS } from './input-limits.ts';
import { memoCompute, memoGet, memoTable } from './memo-table.ts';
import { campaignTags, type CampaignTags, splitUrl } from './url-parts.ts';

export interface PageParts {
  /** lower-case, clipped to a DNS name's length */
  readonly host: string;
  /** clipped to LIMITS.path */
  readonly path: string;
  readonly tags: CampaignTags;
}

const TABLE_LIMIT = 2048;
const pages = memoTable<PageParts>(TABLE_LIMIT);
const referrers = memoTable<string>(TABLE_LIMIT);

const withoutClickId = (p: PageParts): boolean => !p.tags.clickId;

function pageParts(url: string): PageParts {
  const page = splitUrl(url);
  return { host: clip(page.host, LIMITS.host), path: clip(page.path, LIMITS.path), tags: campaignTags(page.query) };
}

const referrerHost = (referrer: string): string => clip(splitUrl(referrer).host, LIMITS.host);

/** Host, path and campaign tags of a page URL (clipped to LIMITS.input first). */
export function pagePartsOf(url: string | undefined): PageParts {
  const key = clip(url ?? '', LIMITS.input);
  return memoGet(pages, key) ?? memoCompute(pages, key, pageParts, withoutClickId);
}

/** The referrer's host ('' without one). */
export function referrerHostOf(referrer: string | undefined): string {
  if (!referrer) return '';
  const key = clip(referrer, LIMITS.input);
  return memoGet(referrers, key) ?? memoCompute(referrers, key, referrerHost, () => !key.includes('?'));
}
