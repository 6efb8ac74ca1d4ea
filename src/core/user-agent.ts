/**
 * Device class, OS and browser from a User-Agent string.
 *
 * A handful of ordered substring tests, not a full UA database: the three fields are model
 * features, so what matters is that the same UA always lands in the same small vocabulary.
 * Results are memoized per UA string (memo-table.ts: bounded, found without hashing the whole
 * string), because a site's traffic repeats few UAs.
 */
import { agentHashes } from './features.ts';
import { memoCompute, memoGet, memoTable } from './memo-table.ts';

export type DeviceClass = 'mobile' | 'tablet' | 'desktop' | 'tv' | 'console' | 'bot' | 'unknown';
export type OsName = 'ios' | 'android' | 'windows' | 'macos' | 'chromeos' | 'linux' | 'other';
export type BrowserName = 'chrome' | 'safari' | 'firefox' | 'edge' | 'samsung' | 'opera' | 'webview' | 'bot' | 'other';

export interface UserAgentInfo {
  readonly device: DeviceClass;
  readonly os: OsName;
  readonly browser: BrowserName;
  /** the features' hashes of the three (features.ts), computed with them: a repeat UA looks them up */
  readonly hashes: Uint32Array;
}

const BOT = /bot|crawl|spider|slurp|headless|lighthouse|facebookexternalhit|preview|curl|wget|python-requests|go-http/i;
const info = (device: DeviceClass, os: OsName, browser: BrowserName): UserAgentInfo => ({
  device,
  os,
  browser,
  hashes: agentHashes(device, os, browser),
});
const UNKNOWN = info('unknown', 'other', 'other');
const CACHE_LIMIT = 512;
const cache = memoTable<UserAgentInfo>(CACHE_LIMIT);

function osOf(ua: string): OsName {
  if (/iPhone|iPad|iPod/.test(ua)) return 'ios';
  if (ua.includes('Android')) return 'android';
  if (ua.includes('Windows')) return 'windows';
  if (ua.includes('CrOS')) return 'chromeos';
  if (ua.includes('Macintosh') || ua.includes('Mac OS X')) return 'macos';
  if (ua.includes('Linux') || ua.includes('X11')) return 'linux';
  return 'other';
}

function deviceOf(ua: string, os: OsName): DeviceClass {
  if (/SmartTV|SMART-TV|HbbTV|AppleTV|GoogleTV|BRAVIA|Roku|CrKey|AFT[A-Z]/.test(ua)) return 'tv';
  if (/PlayStation|Xbox|Nintendo/.test(ua)) return 'console';
  if (ua.includes('iPad') || (os === 'android' && !ua.includes('Mobile')) || ua.includes('Tablet')) {
    return 'tablet';
  }
  if (/Mobi|iPhone|iPod|Android|Windows Phone/.test(ua)) return 'mobile';
  if (os === 'other') return 'unknown';
  return 'desktop';
}

function browserOf(ua: string, os: OsName): BrowserName {
  if (ua.includes('Edg/') || ua.includes('EdgA/') || ua.includes('EdgiOS/')) return 'edge';
  if (ua.includes('OPR/') || ua.includes('Opera')) return 'opera';
  if (ua.includes('SamsungBrowser/')) return 'samsung';
  if (ua.includes('Firefox/') || ua.includes('FxiOS/')) return 'firefox';
  if ((os === 'android' && ua.includes('; wv)')) || (os === 'ios' && !ua.includes('Safari/'))) {
    return 'webview';
  }
  if (ua.includes('Chrome/') || ua.includes('CriOS/') || ua.includes('Chromium/')) return 'chrome';
  if (ua.includes('Safari/')) return 'safari';
  return 'other';
}

export function parseUserAgent(ua: string | null | undefined): UserAgentInfo {
  if (!ua) return UNKNOWN;
  return memoGet(cache, ua) ?? memoCompute(cache, ua, classify);
}

function classify(ua: string): UserAgentInfo {
  if (BOT.test(ua)) return info('bot', osOf(ua), 'bot');
  const os = osOf(ua);
  return info(deviceOf(ua, os), os, browserOf(ua, os));
}
