/**
 * `npm run import:obd -- --in ../shared/data/obd/random/men --out data/obd-random-men [--policy-out FILE]`
 *
 * Turns an Open Bandit Dataset campaign CSV (ZOZOTOWN fashion recommendations; the columns are
 * described in the data folder's SOURCE.md) into our log: one decision record per row (the
 * recommended item in one of three positions) and one click outcome per clicked row, written as
 * the queue consumer writes them (gzip NDJSON under dt=/hour= partitions, core/log-layout.ts). The trainer and the
 * evaluator then read it exactly like production logs.
 *
 * Mapping:
 *   slot = `pos-<position>`; action = `item-<item_id>`; candidates = every item of the campaign;
 *   propensity = propensity_score; probabilities = uniform for the random policy, else empty
 *   (OBD logs only the chosen item's propensity);
 *   context.attrs = { uf0..uf3: user_feature_0..3, position: "1"|"2"|"3", aff<i>: affinity } (non-zero
 *   user-item affinities only; they are mostly zero); hour/weekday from the UTC timestamp; the
 *   web fields we do not have (geo, device, referrer) are empty strings;
 *   visitor = hash of the user-feature tuple (OBD has no user id: a stand-in, not a person).
 *
 * `--policy-out` also writes the logging policy's observed action distribution per slot (item
 * shares per position). For the Bernoulli TS log this is the evaluation target of the
 * off-policy estimate from the random log: BTS in OBD ignores user features, so its share of each
 * item per position over the week is its time-averaged action distribution.
 */
import { createReadStream, createWriteStream, existsSync, statSync, type WriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGzip, type Gzip } from 'node:zlib';
import { hashVisitor, type DecisionRecord, type LoggedContext } from '../core/decision-record.ts';
import { FEATURE_SPEC_HASH } from '../core/features.ts';
import { hourPartition } from '../core/log-layout.ts';
import type { OutcomeEvent } from '../core/outcome-event.ts';
import { CliError, cliMain, type CliSpec } from './cli.ts';
import { progressBar, records } from './progress.ts';

export interface ObdImport {
  readonly decisions: number;
  readonly clicks: number;
  readonly outOfOrder: number;
  readonly policy: Record<string, Record<string, number>>;
  readonly files: string[];
}

function contextOf(ts: number, attrs: Record<string, string | number>): LoggedContext {
  const d = new Date(ts);
  return {
    country: '',
    region: '',
    city: '',
    asn: 0,
    timezone: '',
    device: '',
    os: '',
    browser: '',
    referrer: '',
    referrerHost: '',
    utmSource: '',
    utmMedium: '',
    utmCampaign: '',
    utmTerm: '',
    utmContent: '',
    path: '',
    pageType: 'product',
    hour: d.getUTCHours(),
    weekday: d.getUTCDay(),
    visits: 0,
    daysSinceLastVisit: -1,
    purchases: 0,
    segments: [],
    attrs,
  };
}

export async function importObd(
  inDir: string,
  outDir: string,
  policyName = basename(join(inDir, '..')),
  onProgress?: (fraction: number, rows: number) => void,
): Promise<ObdImport> {
  const campaign = basename(inDir);
  const items = (await readFile(join(inDir, 'item_context.csv'), 'utf8'))
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => `item-${l.split(',')[1]}`);
  const uniform = policyName === 'random';
  const csv = join(inDir, `${campaign}.csv`);
  const totalBytes = statSync(csv).size || 1;
  const input = createReadStream(csv);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let header: string[] | null = null;
  let col: Record<string, number> = {};
  let affinityCols: number[] = [];
  let out = null as { gz: Gzip; file: WriteStream; key: string } | null;
  const closing: Promise<void>[] = [];
  const files: string[] = [];
  const counts: Record<string, Record<string, number>> = {};
  let decisions = 0,
    clicks = 0,
    outOfOrder = 0,
    lastTs = -Infinity;
  const close = (o: typeof out) => {
    if (o)
      closing.push(
        new Promise((res) => {
          o.file.on('close', () => res());
          o.gz.end();
        }),
      );
  };

  for await (const line of lines) {
    if (line.length === 0) continue;
    const f = line.split(',');
    if (header === null) {
      header = f;
      col = Object.fromEntries(f.map((h, i) => [h, i]));
      affinityCols = f.map((h, i) => (h.startsWith('user-item_affinity_') ? i : -1)).filter((i) => i >= 0);
      continue;
    }
    const index = f[0]!;
    const ts = Date.parse(f[col.timestamp!]!.replace(' ', 'T'));
    if (ts < lastTs) outOfOrder++;
    lastTs = Math.max(lastTs, ts);
    const item = `item-${f[col.item_id!]}`;
    const position = f[col.position!]!;
    const slot = `pos-${position}`;
    const attrs: Record<string, string | number> = { position };
    for (let u = 0; u < 4; u++) attrs[`uf${u}`] = f[col[`user_feature_${u}`]!]!;
    for (const c of affinityCols) {
      const a = Number(f[c]);
      if (a !== 0 && Number.isFinite(a)) attrs[`aff${header[c]!.slice('user-item_affinity_'.length)}`] = a;
    }
    const id = `obd-${policyName}-${campaign}-${index}`;
    const visitor = hashVisitor(`obd:${attrs.uf0}:${attrs.uf1}:${attrs.uf2}:${attrs.uf3}`);
    const decision: DecisionRecord = {
      type: 'decision',
      v: 1,
      id,
      ts,
      kind: 'variant',
      visitor,
      slot,
      model: null,
      action: item,
      propensity: Number(f[col.propensity_score!]),
      score: null,
      source: 'explore',
      candidates: items,
      probabilities: uniform ? items.map(() => 1 / items.length) : [],
      featureSpec: FEATURE_SPEC_HASH,
      context: contextOf(ts, attrs),
    };
    const key = hourPartition(ts);
    if (out?.key !== key) {
      close(out);
      await mkdir(join(outDir, key), { recursive: true });
      const path = join(outDir, key, `obd-${policyName}-${campaign}-${String(decisions).padStart(7, '0')}.ndjson.gz`);
      const gz = createGzip();
      const file = createWriteStream(path);
      gz.pipe(file);
      out = { gz, file, key };
      files.push(path);
    }
    out.gz.write(JSON.stringify(decision) + '\n');
    decisions++;
    if (onProgress && (decisions & 0xfff) === 0) onProgress(input.bytesRead / totalBytes, decisions);
    (counts[slot] ??= {})[item] = (counts[slot]![item] ?? 0) + 1;
    if (f[col.click!] === '1') {
      const click: OutcomeEvent = {
        type: 'outcome',
        v: 1,
        id: `${id}-click`,
        ts: ts + 1,
        receivedAt: ts + 1,
        name: 'click',
        decisionId: id,
        visitor,
        slot,
        variant: item,
      };
      out.gz.write(JSON.stringify(click) + '\n');
      clicks++;
    }
  }
  close(out);
  await Promise.all(closing);
  const policy: Record<string, Record<string, number>> = {};
  for (const [slot, byItem] of Object.entries(counts)) {
    const total = Object.values(byItem).reduce((s, c) => s + c, 0);
    policy[slot] = Object.fromEntries(items.map((it) => [it, (byItem[it] ?? 0) / total]));
  }
  return { decisions, clicks, outOfOrder, policy, files };
}

export const SPEC = {
  name: 'import:obd',
  usage: 'npm run import:obd -- --in DIR --out DIR [--policy-out FILE]',
  summary:
    "Turns one Open Bandit Dataset campaign (ZOZOTOWN; <policy>/<campaign>/<campaign>.csv and item_context.csv) into attune's outcome log: gzip NDJSON decision and click records under dt=/hour= folders, which train and evaluate read.",
  options: {
    in: { type: 'string', arg: 'DIR', required: true, help: 'the campaign folder, e.g. ../shared/data/obd/random/men' },
    out: { type: 'string', arg: 'DIR', required: true, help: 'where the log is written' },
    'policy-out': { type: 'string', arg: 'FILE', help: "also write the logging policy's item shares per position (JSON)" },
    policy: { type: 'string', arg: 'NAME', help: "the logging policy's name (default: the folder above --in, e.g. random or bts)" },
  },
} as const satisfies CliSpec;

await cliMain(import.meta.url, SPEC, async ({ values }) => {
  const csv = join(values.in, `${basename(values.in)}.csv`);
  if (!existsSync(csv)) throw new CliError(`${values.in} is not an OBD campaign folder: ${csv} does not exist`);
  const bar = progressBar('import:obd');
  const started = performance.now();
  const r = await importObd(values.in, values.out, values.policy, (fraction, rows) => bar.update(fraction, records(rows, started)));
  bar.done();
  if (values['policy-out']) await writeFile(values['policy-out'], JSON.stringify({ source: values.in, slots: r.policy }, null, 2));
  console.log(
    `imported ${r.decisions} decisions and ${r.clicks} clicks (CTR ${((100 * r.clicks) / r.decisions).toFixed(3)}%) into ${r.files.length} objects under ${values.out}${r.outOfOrder ? `; ${r.outOfOrder} rows out of time order` : ''}`,
  );
});
