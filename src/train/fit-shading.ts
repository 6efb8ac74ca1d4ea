/**
 * `node src/train/fit-shading.ts <log.ndjson[.gz]>… [--out file.bin] [--publish [--remote]]
 *    [--min-pub 500] [--version v]` (`--help` for the options)
 *
 * Fits the first-price win curves from the outcome log: every `win`, `billing` or `loss` event
 * of our bids (`props.bid` = our price, `props.pub` = publisher, `auction.minToWin` when the
 * exchange sent it; losses only for a price reason, win-curve.ts and PRICE_LOSSES) goes into
 * log-price bins, one set for all traffic (`*`) and one per publisher with at
 * least `--min-pub` auctions. Each bid counts once: the log is at-least-once, and an exchange
 * retries and replays notices, so the first notice of a decision is kept and later ones are
 * counted as duplicates (memory: the bins, and 64 MB of recent decision hashes, which catch
 * repeats within the last 2–4 million auctions read; recent-keys.ts).
 * The result is a `shading` model named `bid-shading`, written to a file and/or published
 * (atomic, verified).
 */
import { createReadStream, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { encodeShadingModel, SHADING_MODEL } from '../core/bidding/shading-model.ts';
import {
  createWinStats,
  fitWinCurve,
  observations,
  observe,
  PRIOR_CURVE,
  type WinCurve,
  type WinStats,
} from '../core/bidding/win-curve.ts';
import { publishModel } from '../core/model-registry.ts';
import type { LogRecord } from '../core/outcome-event.ts';
import { cliMain, type CliSpec } from './cli.ts';
import { progressBar, records } from './progress.ts';
import { idKey, recentKeys, type RecentKeys } from './recent-keys.ts';
import { localStorage, remoteStorage } from './storage.ts';

export interface ShadingFit {
  readonly all: WinStats;
  readonly byPub: Map<string, WinStats>;
  auctions: number;
  /** notices of a bid already counted */
  duplicates: number;
  /** losses for a reason other than price (filtered creative, blocked seat, …), left out */
  notPrice: number;
  /** 53-bit hashes of the decisions counted lately */
  readonly seen: RecentKeys;
}

export function createShadingFit(bits?: number): ShadingFit {
  return { all: createWinStats(), byPub: new Map(), auctions: 0, duplicates: 0, notPrice: 0, seen: recentKeys(bits) };
}

/**
 * OpenRTB loss reasons that say the price lost (below the floor or the deal floor, outbid,
 * outbid by a deal). Others (a filtered creative, a blocked seat, an expired impression, an
 * exchange error) say nothing of what price would have won, and are left out of the curve.
 */
const PRICE_LOSSES: ReadonlySet<number> = new Set([100, 101, 102, 103]);

/** Adds one log record; returns whether it was an auction outcome we could use. */
export function addRecord(fit: ShadingFit, r: LogRecord): boolean {
  if (r === null || typeof r !== 'object' || r.type !== 'outcome') return false;
  // a billing notice is a win too: some exchanges call only the burl
  if (r.name !== 'win' && r.name !== 'billing' && r.name !== 'loss') return false;
  const bid = r.props?.bid;
  if (typeof bid !== 'number' || !(bid > 0)) return false;
  const reason = r.auction?.lossReason;
  if (r.name === 'loss' && reason !== undefined && !PRICE_LOSSES.has(reason)) {
    fit.notPrice++;
    return false;
  }
  const id = typeof r.decisionId === 'string' ? r.decisionId : r.id;
  if (typeof id !== 'string') return false;
  if (fit.seen.seen(idKey(id))) {
    fit.duplicates++;
    return false;
  }
  const won = r.name !== 'loss';
  const mtw = r.auction?.minToWin;
  observe(fit.all, bid, won, mtw);
  const pub = r.props?.pub;
  if (typeof pub === 'string' && pub !== '') {
    let s = fit.byPub.get(pub);
    if (!s) fit.byPub.set(pub, (s = createWinStats()));
    observe(s, bid, won, mtw);
  }
  fit.auctions++;
  return true;
}

/** `*` from all traffic, `pub:<id>` for publishers with enough auctions (started from `*`). */
export function curvesOf(fit: ShadingFit, minPerPub: number): Map<string, WinCurve> {
  const all = fitWinCurve(fit.all, PRIOR_CURVE);
  const out = new Map<string, WinCurve>([['*', all]]);
  for (const [pub, s] of fit.byPub) if (observations(s) >= minPerPub) out.set(`pub:${pub}`, fitWinCurve(s, all));
  return out;
}

async function readLog(path: string, fit: ShadingFit, onBytes?: (bytes: number) => void): Promise<number> {
  const raw = createReadStream(path);
  const input = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  let lines = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if ((++lines & 0xfff) === 0) onBytes?.(raw.bytesRead);
    if (line.trim() === '') continue;
    let record: LogRecord;
    try {
      record = JSON.parse(line) as LogRecord;
    } catch {
      continue; // a torn last line of a log being written
    }
    addRecord(fit, record);
  }
  return lines;
}

export const SPEC = {
  name: 'fit-shading',
  usage: 'node src/train/fit-shading.ts LOG… [--out FILE] [--publish [--remote]] [--min-pub N] [--version V]',
  summary:
    'Fits first-price win curves (the bid-shading model) from the win, billing and loss notices of our bids in outcome logs (.ndjson or .ndjson.gz files): one curve for all traffic and one per publisher with enough auctions.',
  positionals: { min: 1 },
  options: {
    out: { type: 'string', arg: 'FILE', help: 'write the model blob here' },
    publish: { type: 'boolean', help: 'publish it (atomic, verified) to local KV' },
    remote: { type: 'boolean', help: 'with --publish: to the real namespace (npm run deploy writes its id)' },
    persist: { type: 'string', arg: 'DIR', help: 'with --publish: the local state folder, as wrangler dev --persist-to' },
    'min-pub': { type: 'integer', min: 1, default: 500, help: 'auctions a publisher needs for its own curve' },
    version: { type: 'string', arg: 'V', help: 'the model version (default: the UTC time)' },
  },
} as const satisfies CliSpec;

await cliMain(import.meta.url, SPEC, async ({ values, positionals }) => {
  const fit = createShadingFit();
  const sizes = positionals.map((p) => statSync(p).size);
  const total = sizes.reduce((a, b) => a + b, 0) || 1;
  const bar = progressBar('fit-shading');
  const started = performance.now();
  let before = 0;
  let lines = 0;
  for (const [i, p] of positionals.entries()) {
    lines += await readLog(p, fit, (bytes) => bar.update((before + bytes) / total, records(lines, started)));
    before += sizes[i]!;
  }
  bar.done();
  const curves = curvesOf(fit, values['min-pub']);
  const version = values.version ?? new Date().toISOString().replace(/[:.]/g, '-');
  const blob = encodeShadingModel(SHADING_MODEL, version, curves);
  console.log(
    `${fit.auctions} auctions (${fit.duplicates} repeated notices dropped, ${fit.notPrice} losses for other reasons than price left out); curves: ${[...curves].map(([k, c]) => `${k} a=${c.a.toFixed(3)} k=${c.k.toFixed(3)}`).join(', ')}`,
  );
  if (values.out) await writeFile(values.out, blob);
  if (values.publish) {
    const store = values.remote ? remoteStorage() : await localStorage(values.persist);
    try {
      const r = await publishModel(store.storage, blob);
      console.log(r.ok ? `published ${r.name}@${r.version}` : `publish failed: ${r.reason}`);
      if (!r.ok) return 1;
    } finally {
      await store.close();
    }
  }
  return 0;
});
