/**
 * Structural validation of an OpenRTB 2.5/2.6 BidRequest: what OpenRTB itself requires, not
 * what any one exchange adds. Prebid Server's policies (its `ext.prebid` fields, aliases,
 * stored requests, mandatory banner sizes) are deliberately not enforced here: a bidder that
 * rejected them would refuse valid traffic from every other exchange.
 *
 * The result is typed: `{ ok: true, request }` with the request as `iab-openrtb` v2.6 types
 * (2.5 extensions such as `regs.ext.gdpr` up-converted to their 2.6 homes), or
 * `{ ok: false, field, reason }` naming the first field that breaks the spec.
 */
import type { BidRequest } from 'iab-openrtb/v26';
import {
  isObject,
  nonEmptyStrings,
  optFinite,
  optFlag,
  optInt,
  optIntArray,
  optNonNegative,
  optObject,
  optString,
  optStringArray,
  type Json,
  type JsonObject,
} from './json-check.ts';
import { checkNativeRequest } from './native-request.ts';

export type OpenRtbVersion = '2.5' | '2.6';
export type Validated = { ok: true; request: BidRequest; version: OpenRtbVersion } | { ok: false; field: string; reason: string };

const fail = (field: string, reason: string): Validated => ({ ok: false, field, reason });

const BANNER_SIZES = ['w', 'h', 'wmax', 'hmax', 'wmin', 'hmin'] as const;
const FORMAT_SIZES = ['w', 'h', 'wratio', 'hratio', 'wmin'] as const;
// quantities that cannot be negative (startdelay, podseq, slotinpod and maxextended use -1/-2 codes)
const AV_QUANTITIES = [
  'w',
  'h',
  'minduration',
  'maxduration',
  'minbitrate',
  'maxbitrate',
  'sequence',
  'maxseq',
  'poddur',
  'rqddurs',
  'mincpmpersec',
] as const;
const DEVICE_QUANTITIES = ['w', 'h', 'ppi', 'pxratio'] as const;

/** `x-openrtb-version` header value → the version we speak, or null when unsupported. */
export function parseOpenRtbVersion(header: string | null | undefined): OpenRtbVersion | null {
  if (header === null || header === undefined || header === '') return '2.6';
  const v = header.trim();
  if (v === '2.6' || v.startsWith('2.6.')) return '2.6';
  if (v === '2.5' || v.startsWith('2.5.')) return '2.5';
  return null;
}

/**
 * Exchanges send a handful of imps per request (a page's ad slots). The cap keeps one small
 * gzipped request from buying megabytes of signed bids and thousands of log records.
 */
export const MAX_IMPS = 64;

export function validateBidRequest(body: Json, version: OpenRtbVersion = '2.6'): Validated {
  if (!isObject(body)) return fail('(body)', body === null ? 'is null; expected a BidRequest object' : 'must be a BidRequest object');
  const r = body;
  if (typeof r.id !== 'string' || r.id === '') return fail('id', 'is required: a non-empty string');
  if (!Array.isArray(r.imp) || r.imp.length === 0) return fail('imp', 'is required: an array with at least one Imp');
  if (r.imp.length > MAX_IMPS) return fail('imp', `at most ${MAX_IMPS} Imps per request`);
  const ids = new Set<string>();
  for (let i = 0; i < r.imp.length; i++) {
    const bad = checkImp(r.imp[i], `imp[${i}]`, ids);
    if (bad) return bad;
  }
  let contexts = 0;
  for (const k of ['site', 'app', 'dooh'] as const) {
    if (r[k] === undefined) continue;
    if (!isObject(r[k])) return fail(k, 'must be an object');
    if (++contexts > 1) return fail(k, 'at most one of site, app and dooh may be present');
    const bad = checkDistribution(r[k], k);
    if (bad) return bad;
  }
  const topLevel =
    check(r.tmax, 'tmax', optNonNegative) ??
    check(r.test, 'test', optFlag) ??
    check(r.allimps, 'allimps', optFlag) ??
    check(r.cur, 'cur', optStringArray) ??
    check(r.bcat, 'bcat', optStringArray) ??
    check(r.badv, 'badv', optStringArray) ??
    check(r.bapp, 'bapp', optStringArray) ??
    check(r.wseat, 'wseat', optStringArray) ??
    check(r.bseat, 'bseat', optStringArray) ??
    check(r.ext, 'ext', optObject) ??
    check(r.source, 'source', optObject);
  if (topLevel) return topLevel;
  if (r.at !== undefined && !(r.at === 1 || r.at === 2 || (Number.isInteger(r.at) && (r.at as number) >= 500))) {
    return fail('at', 'must be 1 (first price), 2 (second price plus) or ≥ 500');
  }
  const more =
    checkDevice(r.device) ??
    checkUser(r.user) ??
    checkRegs(r.regs) ??
    (isObject(r.source) ? check(r.source.ext, 'source.ext', optObject) : null);
  if (more) return more;
  return { ok: true, request: upConvert(r) as unknown as BidRequest, version };
}

function check(v: Json, field: string, rule: (v: Json) => string | null): Validated | null {
  const reason = rule(v);
  return reason === null ? null : fail(field, reason);
}

function checkAll(o: JsonObject, at: string, keys: readonly string[], rule: (v: Json) => string | null): Validated | null {
  for (let i = 0; i < keys.length; i++) {
    const reason = rule(o[keys[i]!]);
    if (reason !== null) return fail(`${at}.${keys[i]}`, reason);
  }
  return null;
}

function checkImp(imp: Json, at: string, ids: Set<string>): Validated | null {
  if (!isObject(imp)) return fail(at, 'must be an Imp object');
  if (typeof imp.id !== 'string' || imp.id === '') return fail(`${at}.id`, 'is required: a non-empty string');
  if (ids.has(imp.id)) return fail(`${at}.id`, `duplicates an earlier imp id "${imp.id}"`);
  ids.add(imp.id);
  const basic =
    check(imp.bidfloor, `${at}.bidfloor`, optNonNegative) ??
    check(imp.bidfloorcur, `${at}.bidfloorcur`, optString) ??
    check(imp.instl, `${at}.instl`, optFlag) ??
    check(imp.secure, `${at}.secure`, optFlag) ??
    check(imp.exp, `${at}.exp`, optNonNegative) ??
    check(imp.ext, `${at}.ext`, optObject);
  if (basic) return basic;
  if (imp.banner !== undefined) {
    const b = imp.banner;
    if (!isObject(b)) return fail(`${at}.banner`, 'must be an object');
    const sizes =
      checkAll(b, `${at}.banner`, BANNER_SIZES, optNonNegative) ??
      check(b.pos, `${at}.banner.pos`, optInt) ??
      check(b.btype, `${at}.banner.btype`, optIntArray) ??
      check(b.battr, `${at}.banner.battr`, optIntArray);
    if (sizes) return sizes;
    if (b.format !== undefined) {
      if (!Array.isArray(b.format)) return fail(`${at}.banner.format`, 'must be an array of Format objects');
      for (let i = 0; i < b.format.length; i++) {
        const f = b.format[i];
        if (!isObject(f)) return fail(`${at}.banner.format[${i}]`, 'must be a Format object');
        const bad = checkAll(f, `${at}.banner.format[${i}]`, FORMAT_SIZES, optNonNegative);
        if (bad) return bad;
      }
    }
  }
  for (const kind of ['video', 'audio'] as const) {
    if (imp[kind] === undefined) continue;
    const m = imp[kind];
    if (!isObject(m)) return fail(`${at}.${kind}`, 'must be an object');
    const bad =
      check(m.mimes, `${at}.${kind}.mimes`, nonEmptyStrings) ??
      checkAll(m, `${at}.${kind}`, AV_QUANTITIES, quantity) ??
      check(m.pos, `${at}.${kind}.pos`, optInt) ??
      check(m.protocols, `${at}.${kind}.protocols`, optIntArray) ??
      check(m.battr, `${at}.${kind}.battr`, optIntArray);
    if (bad) return bad;
  }
  if (imp.native !== undefined) {
    const n = imp.native;
    if (!isObject(n)) return fail(`${at}.native`, 'must be an object');
    if (n.request === undefined) return fail(`${at}.native.request`, 'is required');
    const nat = checkNativeRequest(n.request, `${at}.native.request`);
    if (!nat.ok) return fail(nat.field, nat.reason);
  }
  if (imp.pmp !== undefined) {
    const p = imp.pmp;
    if (!isObject(p)) return fail(`${at}.pmp`, 'must be an object');
    const bad = check(p.private_auction, `${at}.pmp.private_auction`, optFlag);
    if (bad) return bad;
    if (p.deals !== undefined) {
      if (!Array.isArray(p.deals)) return fail(`${at}.pmp.deals`, 'must be an array of Deal objects');
      for (let i = 0; i < p.deals.length; i++) {
        const d = p.deals[i];
        const da = `${at}.pmp.deals[${i}]`;
        if (!isObject(d)) return fail(da, 'must be a Deal object');
        if (typeof d.id !== 'string' || d.id === '') return fail(`${da}.id`, 'is required: a non-empty string');
        const dbad =
          check(d.bidfloor, `${da}.bidfloor`, optNonNegative) ??
          check(d.bidfloorcur, `${da}.bidfloorcur`, optString) ??
          check(d.at, `${da}.at`, optInt) ??
          check(d.wseat, `${da}.wseat`, optStringArray) ??
          check(d.wadomain, `${da}.wadomain`, optStringArray);
        if (dbad) return dbad;
      }
    }
  }
  return null;
}

/** numbers ≥ 0, or (`rqddurs`) arrays of them */
function quantity(v: Json): string | null {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (optNonNegative(v[i]) !== null) return 'must hold numbers ≥ 0';
    return null;
  }
  return optNonNegative(v);
}

function checkDistribution(o: JsonObject, at: string): Validated | null {
  return (
    check(o.id, `${at}.id`, optString) ??
    check(o.domain, `${at}.domain`, optString) ??
    check(o.page, `${at}.page`, optString) ??
    check(o.bundle, `${at}.bundle`, optString) ??
    check(o.ref, `${at}.ref`, optString) ??
    check(o.cat, `${at}.cat`, optStringArray) ??
    check(o.publisher, `${at}.publisher`, optObject) ??
    check(o.ext, `${at}.ext`, optObject) ??
    (isObject(o.publisher) ? check(o.publisher.id, `${at}.publisher.id`, optString) : null)
  );
}

function checkGeo(g: Json, at: string): Validated | null {
  if (g === undefined) return null;
  if (!isObject(g)) return fail(at, 'must be an object');
  // Out-of-range coordinates occur in real traffic (Prebid's own fixtures send lat 123.456);
  // they are ignored for targeting rather than failing the whole request.
  if (g.lat !== undefined && typeof g.lat !== 'number') return fail(`${at}.lat`, 'must be a number');
  if (g.lon !== undefined && typeof g.lon !== 'number') return fail(`${at}.lon`, 'must be a number');
  return (
    check(g.accuracy, `${at}.accuracy`, optNonNegative) ??
    check(g.country, `${at}.country`, optString) ??
    check(g.region, `${at}.region`, optString) ??
    check(g.city, `${at}.city`, optString) ??
    check(g.utcoffset, `${at}.utcoffset`, optFinite) ??
    check(g.ext, `${at}.ext`, optObject)
  );
}

function checkDevice(d: Json): Validated | null {
  if (d === undefined) return null;
  if (!isObject(d)) return fail('device', 'must be an object');
  return (
    checkAll(d, 'device', DEVICE_QUANTITIES, optNonNegative) ??
    check(d.ua, 'device.ua', optString) ??
    check(d.os, 'device.os', optString) ??
    check(d.ifa, 'device.ifa', optString) ??
    check(d.devicetype, 'device.devicetype', optInt) ??
    check(d.dnt, 'device.dnt', optFlag) ??
    check(d.lmt, 'device.lmt', optFlag) ??
    check(d.js, 'device.js', optFlag) ??
    check(d.ext, 'device.ext', optObject) ??
    checkGeo(d.geo, 'device.geo')
  );
}

function checkUser(u: Json): Validated | null {
  if (u === undefined) return null;
  if (!isObject(u)) return fail('user', 'must be an object');
  return (
    check(u.id, 'user.id', optString) ??
    check(u.buyeruid, 'user.buyeruid', optString) ??
    check(u.consent, 'user.consent', optString) ??
    check(u.ext, 'user.ext', optObject) ??
    (u.eids !== undefined && !Array.isArray(u.eids) ? fail('user.eids', 'must be an array') : null) ??
    checkGeo(u.geo, 'user.geo') ??
    checkData(u.data)
  );
}

/** `user.data[]`: provider id/name and segment ids feed the features, so their types matter. */
function checkData(data: Json): Validated | null {
  if (data === undefined) return null;
  if (!Array.isArray(data)) return fail('user.data', 'must be an array of Data objects');
  for (let i = 0; i < data.length; i++) {
    const d = data[i];
    const at = `user.data[${i}]`;
    if (!isObject(d)) return fail(at, 'must be a Data object');
    const bad = check(d.id, `${at}.id`, optString) ?? check(d.name, `${at}.name`, optString);
    if (bad) return bad;
    if (d.segment === undefined) continue;
    if (!Array.isArray(d.segment)) return fail(`${at}.segment`, 'must be an array of Segment objects');
    for (let j = 0; j < d.segment.length; j++) {
      const sg = d.segment[j];
      if (!isObject(sg)) return fail(`${at}.segment[${j}]`, 'must be a Segment object');
      const sbad = check(sg.id, `${at}.segment[${j}].id`, optString);
      if (sbad) return sbad;
    }
  }
  return null;
}

function checkRegs(g: Json): Validated | null {
  if (g === undefined) return null;
  if (!isObject(g)) return fail('regs', 'must be an object');
  return (
    check(g.coppa, 'regs.coppa', optFlag) ??
    check(g.gdpr, 'regs.gdpr', optFlag) ??
    check(g.us_privacy, 'regs.us_privacy', optString) ??
    check(g.ext, 'regs.ext', optObject) ??
    (isObject(g.ext) ? check(g.ext.gdpr, 'regs.ext.gdpr', optFlag) : null)
  );
}

/** OpenRTB 2.5 carried GDPR, CCPA and consent in `ext` (IAB extensions); 2.6 moved them. */
function upConvert(r: JsonObject): JsonObject {
  const regs = r.regs as JsonObject | undefined;
  const rext = regs && (regs.ext as JsonObject | undefined);
  const user = r.user as JsonObject | undefined;
  const uext = user && (user.ext as JsonObject | undefined);
  if (
    rext &&
    ((regs!.gdpr === undefined && rext.gdpr !== undefined) || (regs!.us_privacy === undefined && typeof rext.us_privacy === 'string'))
  ) {
    r.regs = {
      ...regs,
      ...(regs!.gdpr === undefined && rext.gdpr !== undefined ? { gdpr: rext.gdpr } : {}),
      ...(regs!.us_privacy === undefined && typeof rext.us_privacy === 'string' ? { us_privacy: rext.us_privacy } : {}),
    };
  }
  if (uext && user!.consent === undefined && typeof uext.consent === 'string') r.user = { ...user, consent: uext.consent };
  return r;
}
