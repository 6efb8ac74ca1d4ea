/**
 * `node src/train/fit-shading.ts --log DIR|FILE… | --r2-local [--site default] [--out file.bin]
 *    [--publish [--remote]] [--min-pub 500] [--version v]` (`--help` for the options; log files may also be given bare)
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
 * (atomic, verified). The log is read through DuckDB (log/open-log.ts): NDJSON or Parquet, in
 * time order, a slice of hours at a time.
 */
import { writeFile } from 'node:fs/promises';
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
import { cliMain, type CliSpec, UsageError } from './cli.ts';
import { chunks } from './log/duckdb.ts';
import type { LogHandle } from './log/open-log.ts';
import { LOG_SOURCE_OPTIONS, openLogOf } from './log-options.ts';
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

/**
 * Every auction notice of the log, in time order, through `addRecord`. SQL picks the notices and
 * the fields addRecord reads (a `props.bid` that is not a JSON number is no bid, as in JS).
 */
export async function readShadingLog(log: LogHandle, fit: ShadingFit): Promise<void> {
  const con = log.duck.con;
  for (const slice of log.plan({ windowMs: 0, graceMs: 0, skewMs: 0 })) {
    await log.load('rec', slice, ['type', 'name', 'decisionId', 'props', 'auction'], true);
    const sql = `SELECT id, decisionId, name,
        CASE WHEN json_type(props, '$.bid') IN ('DOUBLE', 'BIGINT', 'UBIGINT') THEN (props->>'$.bid')::DOUBLE END AS bid,
        CASE WHEN json_type(props, '$.pub') = 'VARCHAR' THEN props->>'$.pub' END AS pub,
        auction.minToWin::DOUBLE AS mtw, auction.lossReason::INTEGER AS reason
      FROM rec WHERE own AND valid AND type = 'outcome' AND name IN ('win', 'billing', 'loss') ORDER BY ts, id`;
    for await (const c of chunks(con, sql)) {
      const col = Array.from({ length: 7 }, (_, i) => c.getColumnVector(i));
      for (let i = 0; i < c.rowCount; i++) {
        const bid = col[3]!.getItem(i);
        const pub = col[4]!.getItem(i);
        const mtw = col[5]!.getItem(i);
        const reason = col[6]!.getItem(i);
        addRecord(fit, {
          type: 'outcome',
          v: 1,
          id: col[0]!.getItem(i) as string,
          ts: 0,
          receivedAt: 0,
          name: col[2]!.getItem(i) as 'win',
          ...(col[1]!.getItem(i) === null ? {} : { decisionId: col[1]!.getItem(i) as string }),
          props: { ...(bid === null ? {} : { bid: bid as number }), ...(pub === null ? {} : { pub: pub as string }) },
          auction: { ...(mtw === null ? {} : { minToWin: mtw as number }), ...(reason === null ? {} : { lossReason: reason as number }) },
        });
      }
    }
  }
}

export const SPEC = {
  name: 'fit-shading',
  usage:
    'node src/train/fit-shading.ts (--log DIR|FILE… | --r2-local | LOG…) [--out FILE] [--publish [--remote]] [--min-pub N] [--version V]',
  summary:
    'Fits first-price win curves (the bid-shading model) from the win, billing and loss notices of our bids in the outcome log (NDJSON and/or Parquet): one curve for all traffic and one per publisher with enough auctions.',
  positionals: { min: 0 },
  options: {
    ...LOG_SOURCE_OPTIONS,
    out: { type: 'string', arg: 'FILE', help: 'write the model blob here' },
    publish: { type: 'boolean', help: 'publish it (atomic, verified) to local KV' },
    remote: { type: 'boolean', help: 'with --publish: to the real namespace (npm run deploy writes its id)' },
    'min-pub': { type: 'integer', min: 1, default: 500, help: 'auctions a publisher needs for its own curve' },
    version: { type: 'string', arg: 'V', help: 'the model version (default: the UTC time)' },
  },
} as const satisfies CliSpec;

await cliMain(import.meta.url, SPEC, async ({ values, positionals }) => {
  const paths = [...(values.log ?? []), ...positionals];
  if (paths.length === 0 && !values['r2-local'])
    throw new UsageError('name the log: --log DIR|FILE (repeatable), bare files, or --r2-local');
  const fit = createShadingFit();
  const log = await openLogOf({ ...values, log: paths });
  try {
    for (const s of log.skipped) console.warn(`skipped ${s.path}: ${s.reason}`);
    await readShadingLog(log, fit);
  } finally {
    await log.close();
  }
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
