/**
 * What a bidder that enforces OpenRTB, and only OpenRTB, must answer for the shared corpus
 * (../shared/data/openrtb). Prebid Server rejects many more of those files for its own
 * policies (ext.prebid, aliases, stored requests, required sizes); they are valid OpenRTB and
 * must be accepted. No Node imports: the workerd suite shares this file.
 */

/** OpenRTB-structural breaks in the corpus → the field that breaks (prefix of the answer's field). */
export const STRUCTURAL_BREAKS: Readonly<Record<string, string>> = {
  'pbs-endpoint__invalid-native__asset-data-invalid-type.json': 'imp[0].native.request.assets[0].data.type',
  'pbs-endpoint__invalid-native__asset-img-h-negative.json': 'imp[0].native.request.assets[0].img.h',
  'pbs-endpoint__invalid-native__asset-img-w-negative.json': 'imp[0].native.request.assets[0].img.w',
  'pbs-endpoint__invalid-native__asset-img-wmin-negative.json': 'imp[0].native.request.assets[0].img.wmin',
  'pbs-endpoint__invalid-native__asset-title-empty.json': 'imp[0].native.request.assets[0].title.len',
  'pbs-endpoint__invalid-native__asset-video-mimes-empty.json': 'imp[0].native.request.assets[0].video.mimes',
  'pbs-endpoint__invalid-native__asset-video-no-mimes.json': 'imp[0].native.request.assets[0].video.mimes',
  'pbs-endpoint__invalid-native__asset-video-protocols-empty.json': 'imp[0].native.request.assets[0].video.protocols',
  'pbs-endpoint__invalid-native__assets-with-partial-ids.json': 'imp[0].native.request.assets[1].id',
  'pbs-endpoint__invalid-native__context-type-content-incompatible-subtype.json': 'imp[0].native.request.contextsubtype',
  'pbs-endpoint__invalid-native__context-type-social-incompatible-subtype.json': 'imp[0].native.request.contextsubtype',
  'pbs-endpoint__invalid-native__empty-object.json': 'imp[0].native.request.assets',
  'pbs-endpoint__invalid-native__eventtracker-methods-empty.json': 'imp[0].native.request.eventtrackers[0].methods',
  'pbs-endpoint__invalid-native__eventtracker-methods-large.json': 'imp[0].native.request.eventtrackers[0].methods[0]',
  'pbs-endpoint__invalid-native__request-plcmttype-invalid.json': 'imp[0].native.request.plcmttype',
  'pbs-endpoint__invalid-whole__audio-maxbitrate-negative.json': 'imp[0].audio.maxbitrate',
  'pbs-endpoint__invalid-whole__audio-maxseq-negative.json': 'imp[0].audio.maxseq',
  'pbs-endpoint__invalid-whole__audio-mimes-empty.json': 'imp[0].audio.mimes',
  'pbs-endpoint__invalid-whole__audio-sequence-negative.json': 'imp[0].audio.sequence',
  'pbs-endpoint__invalid-whole__banner-h-negative.json': 'imp[0].banner.h',
  'pbs-endpoint__invalid-whole__device-geo-accuracy-negative.json': 'device.geo.accuracy',
  'pbs-endpoint__invalid-whole__device-h-negative.json': 'device.h',
  'pbs-endpoint__invalid-whole__device-ppi-negative.json': 'device.ppi',
  'pbs-endpoint__invalid-whole__empty-object.json': 'id',
  'pbs-endpoint__invalid-whole__format-wratio-negative.json': 'imp[0].banner.format[0].wratio',
  'pbs-endpoint__invalid-whole__imp-empty-array.json': 'imp',
  'pbs-endpoint__invalid-whole__imp-empty-object.json': 'imp[0].id',
  'pbs-endpoint__invalid-whole__native-empty.json': 'imp[0].native.request',
  'pbs-endpoint__invalid-whole__only-request-id.json': 'imp',
  'pbs-endpoint__invalid-whole__regs-ext-malformed.json': 'regs.ext',
  'pbs-endpoint__invalid-whole__regs-gdpr-invalid.json': 'regs.gdpr',
  'pbs-endpoint__invalid-whole__site-app-both.json': 'app',
  'pbs-endpoint__invalid-whole__user-geo-accuracy-negative.json': 'user.geo.accuracy',
  'pbs-endpoint__invalid-whole__video-empty.json': 'imp[0].video.mimes',
  'pbs-endpoint__invalid-whole__video-h-negative.json': 'imp[0].video.h',
  'pbs-endpoint__invalid-whole__video-maxbitrate-negative.json': 'imp[0].video.maxbitrate',
  // Relies on a Prebid stored request to supply the imp id; on its own the imp has none.
  'pbs-endpoint__invalid-stored__bad_stored_req.json': 'imp[0].id',
  // An adapter fixture whose native.request is the placeholder text `{json string 1}`: not JSON,
  // so not a Native request. Prebid's adapter tests never parse it; a bidder has to.
  'pbs-adapter__theadx__theadxtest__exemplary__multi-native.json': 'imp[0].native.request',
};

/** Bodies SOURCE.md describes that are not files in the corpus: the raw text and the field. */
export const INLINE_BREAKS: ReadonlyArray<readonly [string, string, string]> = [
  ['non-JSON body', 'malformed', '(body)'],
  ['literal null', 'null', '(body)'],
  ['empty body', '', '(body)'],
  [
    'duplicate imp ids',
    JSON.stringify({
      id: 'r',
      site: { id: 's' },
      imp: [
        { id: '1', banner: { w: 300, h: 250 } },
        { id: '1', banner: { w: 300, h: 250 } },
      ],
    }),
    'imp[1].id',
  ],
  ['negative tmax', JSON.stringify({ id: 'r', tmax: -5, imp: [{ id: '1', banner: { w: 1, h: 1 } }] }), 'tmax'],
  [
    'deal without id',
    JSON.stringify({ id: 'r', imp: [{ id: '1', banner: { w: 1, h: 1 }, pmp: { deals: [{ bidfloor: 1 }] } }] }),
    'imp[0].pmp.deals[0].id',
  ],
  [
    'gdpr = 2 (2.5 ext)',
    JSON.stringify({ id: 'r', imp: [{ id: '1', banner: { w: 1, h: 1 } }], regs: { ext: { gdpr: 2 } } }),
    'regs.ext.gdpr',
  ],
];
