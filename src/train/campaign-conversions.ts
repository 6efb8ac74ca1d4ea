/**
 * `npm run campaigns:conversions -- --r2-local | --log DIR [options]`: SPEC below (`--help`).
 *
 * The conversions of each campaign's bids, per UTC day (of the bid) and exchange, from the log:
 * outcome events named like a conversion (`--label`) whose `decisionId` is one of our bids, within
 * `--window` after it. The campaign stats (GET /admin/campaigns/:id/stats, the campaigns page) show
 * them beside what the ledger counts live: conversions reach us at `/v1/events` from the
 * advertiser's site, never through a notice, so only the log can join them to a bid.
 *
 * Two passes, so memory is the conversions, not the bids: the first keeps every conversion event
 * (by decision id, each event id once), the second reads the bid decisions and counts those that
 * have one in their window (a decision logged twice counts once). `--publish` writes each
 * campaign's rows to KV (`stats/conversions/<campaign>`, the last `--days` days), where the Worker
 * reads them.
 */
import { campaignConversionsKey } from '../core/store-keys.ts';
import type { LogRecord } from '../core/outcome-event.ts';
import { parseDuration } from './attribution.ts';
import { CliError, type CliSpec, cliMain, type ParsedCli, UsageError } from './cli.ts';
import { LOG_SOURCE_OPTIONS } from './log-options.ts';
import { localR2Sources, pathSources, readRecords, type LogSource } from './log-reader.ts';
import { localStorage, remoteStorage } from './storage.ts';

const DAY_MS = 86_400_000;

export interface ConversionRow {
  readonly day: string;
  readonly exchange: string;
  conversions: number;
  value: number;
}

interface Conversion {
  readonly ts: number;
  readonly value: number;
}

/** Pass 1: conversion events by the decision they name, each event id once. */
export async function collectConversions(
  batches: AsyncIterable<readonly LogRecord[]> | Iterable<readonly LogRecord[]>,
  labels: ReadonlySet<string>,
): Promise<Map<string, Map<string, Conversion>>> {
  const out = new Map<string, Map<string, Conversion>>();
  for await (const batch of batches) {
    for (const r of batch) {
      if (r.type !== 'outcome' || !labels.has(r.name) || typeof r.decisionId !== 'string') continue;
      let events = out.get(r.decisionId);
      if (events === undefined) out.set(r.decisionId, (events = new Map()));
      if (!events.has(r.id)) events.set(r.id, { ts: r.ts, value: typeof r.value === 'number' && Number.isFinite(r.value) ? r.value : 0 });
    }
  }
  return out;
}

/** Pass 2: the bids those conversions follow, counted per campaign, day and exchange. */
export async function attributeConversions(
  batches: AsyncIterable<readonly LogRecord[]> | Iterable<readonly LogRecord[]>,
  conversions: ReadonlyMap<string, ReadonlyMap<string, Conversion>>,
  windowMs: number,
  skewMs = 60_000,
): Promise<Map<string, ConversionRow[]>> {
  const rows = new Map<string, Map<string, ConversionRow>>();
  const counted = new Set<string>();
  for await (const batch of batches) {
    for (const d of batch) {
      if (d.type !== 'decision' || d.kind !== 'bid') continue;
      const events = conversions.get(d.id);
      if (events === undefined || counted.has(d.id)) continue;
      counted.add(d.id);
      const slash = d.action.indexOf('/'); // a bid's action is campaign/creative
      const campaign = slash < 0 ? d.action : d.action.slice(0, slash);
      const day = new Date(Math.floor(d.ts / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
      const exchange = d.exchange ?? 'unknown';
      let byKey = rows.get(campaign);
      if (byKey === undefined) rows.set(campaign, (byKey = new Map()));
      for (const e of events.values()) {
        const dt = e.ts - d.ts;
        if (dt < -skewMs || dt > windowMs) continue;
        const k = `${day}|${exchange}`;
        let row = byKey.get(k);
        if (row === undefined) byKey.set(k, (row = { day, exchange, conversions: 0, value: 0 }));
        row.conversions++;
        row.value += e.value;
      }
    }
  }
  return new Map([...rows].map(([c, m]) => [c, [...m.values()].filter((r) => r.conversions > 0).sort((a, b) => (a.day < b.day ? -1 : 1))]));
}

export const SPEC = {
  name: 'campaigns:conversions',
  usage: 'npm run campaigns:conversions -- (--r2-local | --log DIR|FILE) [options]',
  summary:
    "Counts each campaign's conversions (outcome events naming one of its bids' decision ids) per day and exchange, and with --publish writes them where the campaign stats read them.",
  options: {
    log: {
      type: 'string',
      arg: 'DIR|FILE',
      multiple: true,
      help: 'the outcome log: a folder of NDJSON files (.ndjson, .ndjson.gz; not the Parquet of log:compact), or one file',
    },
    'r2-local': LOG_SOURCE_OPTIONS['r2-local'],
    persist: LOG_SOURCE_OPTIONS.persist,
    label: {
      type: 'string',
      arg: 'NAMES',
      default: 'conversion,purchase',
      help: 'outcome names that count as a conversion, comma-separated',
    },
    window: { type: 'string', arg: 'DURATION', default: '7d', help: 'how long after a bid a conversion counts' },
    days: { type: 'integer', min: 1, max: 31, default: 31, help: 'the days kept (the stats show at most 31)' },
    publish: { type: 'boolean', help: "write to local KV (wrangler dev's); with --remote, to the deployed namespace" },
    remote: { type: 'boolean', help: 'with --publish: the deployed namespace' },
  },
} as const satisfies CliSpec;

/** The NDJSON the options name, read as a stream (two passes: the sources are read twice). */
async function openSources(a: { log: string[]; 'r2-local': boolean; persist?: string | undefined }) {
  if (a['r2-local']) return localR2Sources(a.persist);
  if (a.log.length === 0) throw new UsageError('name the log: --log <folder|file> (repeatable) or --r2-local');
  const sources: LogSource[] = [];
  for (const p of a.log) sources.push(...(await pathSources(p)));
  if (sources.length === 0) throw new CliError(`no .ndjson / .ndjson.gz files under ${a.log.join(', ')}`);
  return { sources, close: async () => {} };
}

async function main({ values: a }: ParsedCli<typeof SPEC.options>): Promise<void> {
  let windowMs: number;
  try {
    windowMs = parseDuration(a.window);
  } catch (err) {
    throw new UsageError(`--window: ${(err as Error).message}`);
  }
  const days = a.days;
  const labels = new Set(
    a.label
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const { sources, close } = await openSources(a);
  let perCampaign: Map<string, ConversionRow[]>;
  try {
    const conversions = await collectConversions(readRecords(sources), labels);
    perCampaign = await attributeConversions(readRecords(sources), conversions, windowMs);
  } finally {
    await close();
  }
  const from = new Date((Math.floor(Date.now() / DAY_MS) - days + 1) * DAY_MS).toISOString().slice(0, 10);
  for (const [campaign, rows] of perCampaign) {
    const kept = rows.filter((r) => r.day >= from);
    const n = kept.reduce((s, r) => s + r.conversions, 0);
    console.log(`${campaign}: ${n} conversions on ${kept.length} day × exchange rows since ${from}`);
    perCampaign.set(campaign, kept);
  }
  if (perCampaign.size === 0) console.log('no conversions of bids in the log');
  if (!a.publish) return;
  const store = a.remote ? remoteStorage() : await localStorage(a.persist);
  try {
    for (const [campaign, rows] of perCampaign) {
      await store.putJson(campaignConversionsKey(campaign), { asOf: Date.now(), window: a.window, rows });
      console.log(`published ${campaignConversionsKey(campaign)}`);
    }
  } finally {
    await store.close();
  }
}

await cliMain(import.meta.url, SPEC, main);
