/**
 * `npm run train -- --log <folder|file> --name <model> [options]`
 *
 * Streams the log, attributes outcomes to decisions, fits FTRL-proximal logistic regression
 * on the Worker's own features, and writes the `linear` model blob and a report (holdout log
 * loss, AUC and calibration against the constant-rate baseline). `--publish` sends the blob
 * through the atomic publish path to local KV (or the real namespace with `--remote`);
 * `--gate` refuses to publish unless the model beats the baseline on the holdout.
 *
 *   --log DIR|FILE (repeatable) | --r2-local [--persist DIR]   where the log is (NDJSON and/or
 *                                Parquet: log:compact; an hour's Parquet is read in place of its NDJSON)
 *   --site default               the site= partition (logs without one are site default)
 *   --memory 256MB --slice-mb 16 DuckDB's memory limit (it spills past it); input per time slice
 *   --label click[,conversion]  --window 30m  --grace 10m        what counts, and when
 *   --slot ID  --kind variant    learn one slot's decisions only; decisions of one kind (variant)
 *   --served win,billing         outcomes that say a decision was shown; others are no example
 *                                (default for --kind bid: win,billing, since a lost bid's ad was
 *                                never seen; else none: every decision)
 *   --holdout 0.2 | --holdout-from ISO                           time-based holdout
 *   --bits 18 --alpha 0.05 --beta 1 --l1 1 --l2 1 --no-shared   FTRL
 *   --policy '{"type":"greedy","epsilon":0.1}'                  policy stored with the model
 *   --version V (default: UTC timestamp)  --out FILE  --report FILE  --quiet
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_VARIANTS } from '../core/linear-model.ts';
import { parsePolicySpec } from '../core/policy.ts';
import type { FitReport } from './fit.ts';
import { DEFAULT_FTRL } from './ftrl.ts';
import { decisionRange } from './log/range.ts';
import { trainFromLog } from './log/train-log.ts';
import { joinOptions, LOG_OPTIONS, openLogOf } from './log-options.ts';
import { progressBar } from './progress.ts';
import { publishBlob } from './storage.ts';

const num = (s: string | undefined, fallback: number, name: string): number => {
  if (s === undefined) return fallback;
  const n = Number(s);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${s}"`);
  return n;
};

export function formatReport(r: FitReport): string {
  const h = r.holdout;
  const pct = (x: number) => `${(x * 100).toFixed(3)}%`;
  const lines = [
    `model     ${r.model.name}@${r.model.version}: ${r.model.variants.length} variants, 2^${r.model.bits} rows, ${r.model.nonZero} non-zero weights, ${r.model.bytes} bytes`,
    `train     ${r.train.examples} examples, rate ${pct(r.train.rate)}, progressive log loss ${r.train.progressiveLogLoss.toFixed(5)}`,
    `holdout   ${h.examples} examples from ${r.cutoff}, rate ${pct(h.rate)}`,
    `          log loss ${h.logLoss.toFixed(5)} vs constant-rate ${h.baselineLogLoss.toFixed(5)} (${(h.relativeGain * 100).toFixed(2)}% better)`,
    `          AUC ${h.auc.toFixed(4)} vs 0.5; calibration error ${h.calibrationError.toExponential(2)}`,
    '          calibration (equal-count groups):   count   predicted    observed',
    ...h.calibration.map(
      (c) =>
        `                                           ${String(c.count).padStart(7)}  ${pct(c.predicted).padStart(10)}  ${pct(c.observed).padStart(10)}`,
    ),
  ];
  if (r.unreadableContexts > 0) lines.push(`skipped   ${r.unreadableContexts} decisions whose context the extractor could not read`);
  if (r.otherActions > 0)
    lines.push(`skipped   ${r.otherActions} decisions with other actions (past ${MAX_VARIANTS} variants, or not in --variants)`);
  if (r.groups) {
    const g = r.groups;
    lines.push(
      `groups    ${g.decisions} decisions in ${g.groups} groups of identical (context, action, label) rows (${(g.decisions / Math.max(1, g.groups)).toFixed(2)} per group), ${g.contexts} distinct contexts`,
    );
  }
  if (r.join) {
    const j = r.join;
    lines.push(
      `join      ${j.decisions} decisions, ${j.outcomes} outcomes, ${j.attributed} attributed, ${j.unattributed} unattributed, ${j.late} outside the window, duplicates dropped: ${j.duplicateDecisions} decisions / ${j.duplicateOutcomes} outcomes, ${j.staleDecisions} decisions too late to label${j.unserved > 0 ? `, ${j.unserved} never shown (lost bids: no win or billing notice) left out` : ''}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      ...LOG_OPTIONS,
      name: { type: 'string' },
      version: { type: 'string' },
      slot: { type: 'string' },
      variants: { type: 'string' },
      kind: { type: 'string', default: 'variant' },
      holdout: { type: 'string', default: '0.2' },
      'holdout-from': { type: 'string' },
      bits: { type: 'string' },
      alpha: { type: 'string' },
      beta: { type: 'string' },
      l1: { type: 'string' },
      l2: { type: 'string' },
      'no-shared': { type: 'boolean', default: false },
      policy: { type: 'string' },
      quantize: { type: 'string', default: 'int8' },
      out: { type: 'string' },
      report: { type: 'string' },
      publish: { type: 'boolean', default: false },
      remote: { type: 'boolean', default: false },
      gate: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  });
  if (!a.name) throw new Error('--name is required (the model name in KV)');
  const version = a.version ?? new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').toLowerCase();
  const policy = a.policy === undefined ? undefined : parsePolicySpec(JSON.parse(a.policy));
  if (policy === null) throw new Error('--policy is not a valid policy spec');
  if (a.quantize !== 'int8' && a.quantize !== 'float32') throw new Error('--quantize is int8 or float32');
  const ftrl = {
    bits: num(a.bits, DEFAULT_FTRL.bits, 'bits'),
    alpha: num(a.alpha, DEFAULT_FTRL.alpha, 'alpha'),
    beta: num(a.beta, DEFAULT_FTRL.beta, 'beta'),
    l1: num(a.l1, DEFAULT_FTRL.l1, 'l1'),
    l2: num(a.l2, DEFAULT_FTRL.l2, 'l2'),
    shared: !a['no-shared'],
  };
  if (!Number.isInteger(ftrl.bits) || ftrl.bits < 1 || ftrl.bits > 24) throw new Error('--bits must be an integer in 1..24');

  const log = await openLogOf(a);
  try {
    let cutoff: number;
    if (a['holdout-from']) {
      cutoff = Date.parse(a['holdout-from']);
      if (Number.isNaN(cutoff)) throw new Error('--holdout-from must be an ISO date');
    } else {
      const share = num(a.holdout, 0.2, 'holdout');
      const range = await decisionRange(log);
      if (range === null) throw new Error('the log holds no decisions');
      cutoff = share <= 0 ? Infinity : range.min + (1 - share) * (range.max - range.min);
    }
    for (const s of log.skipped) console.warn(`skipped ${s.path}: ${s.reason}`);
    const bar = a.quiet ? { update() {}, done() {} } : progressBar('train');
    const started = performance.now();
    const { blob, report } = await trainFromLog(
      log,
      {
        name: a.name,
        version,
        ftrl,
        cutoff: Number.isFinite(cutoff) ? cutoff : 8.64e15,
        slot: a.slot,
        kind: a.kind,
        policy,
        target: a.label!,
        quantize: a.quantize,
        variants: a.variants
          ?.split(',')
          .map((v) => v.trim())
          .filter(Boolean),
      },
      joinOptions(a),
      (done, of) => bar.update(done / of, `slice ${done} of ${of}`),
    );
    bar.done();
    if (report.train.examples === 0) {
      throw new Error(`no decisions to train on before the holdout cutoff (${report.cutoff}); nothing written`);
    }
    const seconds = (performance.now() - started) / 1000;
    const readStats = report.read;
    // the whole process's CPU (DuckDB's threads included) and peak memory, for the report and bench:train
    const cpu = process.cpuUsage();
    const full = {
      ...report,
      read: {
        ...readStats,
        seconds,
        recordsPerSecond: Math.round(readStats.lines / seconds),
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      },
    };
    const out = a.out ?? `models/compiled/${a.name}@${version}.bin`;
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, blob);
    if (a.report) await writeFile(a.report, JSON.stringify(full, null, 2));
    console.log(formatReport(full));
    console.log(
      `read      ${readStats.lines} records (${readStats.bad} unreadable) in ${seconds.toFixed(2)} s, ${full.read.recordsPerSecond}/s, ${readStats.slices} time slices${readStats.skippedFiles > 0 ? `, ${readStats.skippedFiles} files skipped` : ''}`,
    );
    console.log(`wrote     ${out}`);
    if (a.publish) {
      const h = report.holdout;
      if (a.gate && h.examples === 0) {
        console.error('not published: the holdout is empty, so the gate has nothing to judge the model on');
        process.exitCode = 2;
        return;
      }
      if (a.gate && !(h.logLoss < h.baselineLogLoss)) {
        console.error(`not published: holdout log loss ${h.logLoss} does not beat the constant-rate baseline ${h.baselineLogLoss}`);
        process.exitCode = 2;
        return;
      }
      console.log(await publishBlob(blob, { remote: a.remote, persist: a.persist }));
    }
  } finally {
    await log.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(`train: ${(err as Error).message}`);
    process.exit(1);
  });
}
