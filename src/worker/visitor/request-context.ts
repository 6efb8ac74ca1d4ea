/** Maps a Workers request (`request.cf`, headers) and a body's page fields to the core's ContextInput. */
import type { AttrValue, ContextInput, GeoInput } from '../../core/context.ts';
import type { Profile } from '../../core/profile.ts';

export interface PageFields {
  readonly url?: string | undefined;
  readonly referrer?: string | undefined;
  readonly pageType?: string | undefined;
}

/** Geo from `request.cf`; absent locally and in tests, where the core's defaults apply. */
export function geoOf(req: Request): GeoInput {
  const cf = (req as Request & { cf?: IncomingRequestCfProperties }).cf;
  if (!cf) return {};
  return {
    country: cf.country ?? undefined,
    region: cf.regionCode ?? cf.region ?? undefined,
    city: cf.city ?? undefined,
    asn: typeof cf.asn === 'number' ? cf.asn : undefined,
    timezone: cf.timezone ?? undefined,
  };
}

/**
 * The page is the body's `page.url` when the caller (the snippet, a server) names it; else the
 * Referer of this API call, which for a browser `fetch` is the page that made it.
 */
export function contextInput(
  req: Request,
  page: PageFields | undefined,
  attrs: Readonly<Record<string, AttrValue>> | undefined,
  profile: Profile,
  now: number,
): ContextInput {
  const headerReferrer = req.headers.get('referer') ?? undefined;
  return {
    now,
    url: page?.url ?? headerReferrer,
    referrer: page?.url ? page.referrer : undefined,
    userAgent: req.headers.get('user-agent') ?? undefined,
    geo: geoOf(req),
    profile,
    pageType: page?.pageType,
    attrs,
  };
}
