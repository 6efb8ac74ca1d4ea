/**
 * OpenRTB Native 1.2 request markup (`imp.native.request`, a JSON string in OpenRTB 2.6):
 * the structural rules of the Native Ads spec, answered as the field that breaks them.
 * Exchange-specific values (≥ 500) are accepted wherever the spec reserves them.
 */
import { inRanges, isObject, nonEmptyStrings, optIntArray, optNonNegative, type Json, type JsonObject } from './json-check.ts';

export type NativeCheck = { ok: true; assets: number } | { ok: false; field: string; reason: string };

/** context → the contextsubtype range it allows (Native 1.2, tables 7.1 and 7.2) */
const SUBTYPES: Readonly<Record<number, readonly [number, number]>> = { 1: [10, 15], 2: [20, 22], 3: [30, 32] };
const CONTEXT = [[1, 3]] as const;
const PLCMTTYPE = [[1, 4]] as const;
const DATA_TYPE = [[1, 12]] as const;
/** icon 1, logo 2 (Native 1.0/1.1; deprecated but still sent in 1.2), main 3 */
const IMG_TYPE = [[1, 3]] as const;
const EVENT = [[1, 4]] as const;
const METHOD = [[1, 2]] as const;

const fail = (field: string, reason: string): NativeCheck => ({ ok: false, field, reason });

/**
 * Native request strings that passed, with their asset counts. An exchange sends the same few
 * templates (one per placement) on every request, and parsing one costs more than the rest of
 * the imp's checks; a lookup hashes the string once. Failures are not kept: their answer names
 * the imp, and they are rare.
 */
const passed = new Map<string, number>();
const PASSED_MAX = 512;

/** Parses and checks the native request; `field` is the path of `request` itself. */
export function checkNativeRequest(raw: Json, field: string): NativeCheck {
  if (typeof raw === 'string') {
    const assets = passed.get(raw);
    if (assets !== undefined) return { ok: true, assets };
    let req: Json;
    try {
      req = JSON.parse(raw);
    } catch {
      return fail(field, 'must be a JSON-encoded Native request');
    }
    const r = checkParsed(req, field);
    if (r.ok && raw.length <= 8192) {
      if (passed.size >= PASSED_MAX) passed.clear();
      passed.set(raw, r.assets);
    }
    return r;
  }
  return checkParsed(raw, field);
}

function checkParsed(parsed: Json, field: string): NativeCheck {
  let req = parsed;
  if (!isObject(req)) return fail(field, 'must be a Native request object');
  // Native 1.0 wrapped the request in {"native": {...}}; later versions do not.
  if (isObject(req.native) && req.assets === undefined) {
    req = req.native;
    field = `${field}.native`;
  }
  return checkBody(req as JsonObject, field);
}

function checkBody(r: JsonObject, f: string): NativeCheck {
  if (r.context !== undefined && !inRanges(r.context, CONTEXT)) return fail(`${f}.context`, 'must be 1–3 or ≥ 500');
  if (r.contextsubtype !== undefined) {
    const range = typeof r.context === 'number' ? SUBTYPES[r.context] : undefined;
    const ok =
      Number.isInteger(r.contextsubtype) &&
      ((r.contextsubtype as number) >= 500 ||
        (range !== undefined
          ? (r.contextsubtype as number) >= range[0] && (r.contextsubtype as number) <= range[1]
          : (r.contextsubtype as number) >= 10 && (r.contextsubtype as number) <= 32));
    if (!ok) return fail(`${f}.contextsubtype`, 'does not belong to the given context');
  }
  if (r.plcmttype !== undefined && !inRanges(r.plcmttype, PLCMTTYPE)) return fail(`${f}.plcmttype`, 'must be 1–4 or ≥ 500');
  for (const k of ['plcmtcnt', 'seq'] as const) {
    const e = optNonNegative(r[k]);
    if (e) return fail(`${f}.${k}`, e);
  }
  const assets = r.assets;
  if (!Array.isArray(assets) || assets.length === 0) return fail(`${f}.assets`, 'must be an array with at least one asset');
  const ids = new Set<number>();
  let withId = 0;
  for (let i = 0; i < assets.length; i++) {
    const at = `${f}.assets[${i}]`;
    const a = assets[i];
    if (!isObject(a)) return fail(at, 'must be an object');
    if (a.id !== undefined) {
      if (!Number.isInteger(a.id)) return fail(`${at}.id`, 'must be an integer');
      if (ids.has(a.id as number)) return fail(`${at}.id`, 'must be unique');
      ids.add(a.id as number);
      withId++;
    }
    const bad = checkAsset(a, at);
    if (bad) return bad;
  }
  // `id` is required per asset; requests that omit every id are common and unambiguous (their
  // position names them), but some with and some without cannot be matched to a response.
  if (withId > 0 && withId < assets.length) {
    const i = assets.findIndex((a) => (a as JsonObject).id === undefined);
    return fail(`${f}.assets[${i}].id`, 'is required when other assets have ids');
  }
  const trackers = r.eventtrackers;
  if (trackers !== undefined) {
    if (!Array.isArray(trackers)) return fail(`${f}.eventtrackers`, 'must be an array');
    for (let i = 0; i < trackers.length; i++) {
      const t = trackers[i];
      const at = `${f}.eventtrackers[${i}]`;
      if (!isObject(t)) return fail(at, 'must be an object');
      if (!inRanges(t.event, EVENT)) return fail(`${at}.event`, 'must be 1–4 or ≥ 500');
      const m = t.methods;
      if (!Array.isArray(m) || m.length === 0) return fail(`${at}.methods`, 'must be a non-empty array');
      for (let j = 0; j < m.length; j++) if (!inRanges(m[j], METHOD)) return fail(`${at}.methods[${j}]`, 'must be 1–2 or ≥ 500');
    }
  }
  return { ok: true, assets: assets.length };
}

function checkAsset(a: JsonObject, at: string): NativeCheck | null {
  if (a.required !== undefined && a.required !== 0 && a.required !== 1) return fail(`${at}.required`, 'must be 0 or 1');
  let kinds = 0;
  if (a.title !== undefined) {
    kinds++;
    if (!isObject(a.title)) return fail(`${at}.title`, 'must be an object');
    if (!Number.isInteger(a.title.len) || (a.title.len as number) <= 0) return fail(`${at}.title.len`, 'is required: a positive integer');
  }
  if (a.img !== undefined) {
    kinds++;
    const img = a.img;
    if (!isObject(img)) return fail(`${at}.img`, 'must be an object');
    if (img.type !== undefined && !inRanges(img.type, IMG_TYPE)) return fail(`${at}.img.type`, 'must be 1–3 or ≥ 500');
    for (const k of ['w', 'h', 'wmin', 'hmin'] as const) {
      const e = optNonNegative(img[k]);
      if (e) return fail(`${at}.img.${k}`, e);
    }
  }
  if (a.video !== undefined) {
    kinds++;
    const v = a.video;
    if (!isObject(v)) return fail(`${at}.video`, 'must be an object');
    const mimes = nonEmptyStrings(v.mimes);
    if (mimes) return fail(`${at}.video.mimes`, mimes);
    for (const k of ['minduration', 'maxduration'] as const) {
      if (v[k] === undefined) return fail(`${at}.video.${k}`, 'is required');
      const e = optNonNegative(v[k]);
      if (e) return fail(`${at}.video.${k}`, e);
    }
    if (!Array.isArray(v.protocols) || v.protocols.length === 0) return fail(`${at}.video.protocols`, 'must be a non-empty array');
    const e = optIntArray(v.protocols);
    if (e) return fail(`${at}.video.protocols`, e);
  }
  if (a.data !== undefined) {
    kinds++;
    const d = a.data;
    if (!isObject(d)) return fail(`${at}.data`, 'must be an object');
    if (!inRanges(d.type, DATA_TYPE)) return fail(`${at}.data.type`, 'is required: 1–12 or ≥ 500');
    const e = optNonNegative(d.len);
    if (e) return fail(`${at}.data.len`, e);
  }
  if (kinds !== 1) return fail(at, 'must hold exactly one of title, img, video, data');
  return null;
}
