/**
 * `npm run train -- --log <folder|file> --name <model> [options]`: SPEC below (`--help`).
 *
 * Reads the log through DuckDB (log/open-log.ts: NDJSON and/or Parquet, a time slice at a time),
 * attributes outcomes to decisions in SQL, groups identical (context, action, label) rows and
 * fits FTRL-proximal logistic regression on the groups, weighted, with the Worker's own features
 * (log/train-log.ts); writes the `linear` model blob (with the window of decisions it learned
 * from in its meta) and a report (holdout log loss, AUC and calibration against the
 * constant-rate baseline, and the grouping's compression). `--publish` sends the blob through the atomic publish
 * path to local KV (or the real namespace with `--remote`); `--gate` refuses to publish unless
 * the model beats the baseline on the holdout and its policy's off-policy estimate on the
 * decisions after the training window clears the logging policy (evaluate-report.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MAX_VARIANTS } from '../core/linear-model.ts';
import { parsePolicySpec } from '../core/policy.ts';
import { parseTrainingWindow } from '../core/training-window.ts';
import { loadLinear, modelPolicy } from './candidate-policy.ts';
import { CliError, type CliSpec, cliMain, dateOption, jsonOption, type ParsedCli, UsageError } from './cli.ts';
import { evaluateExamples } from './evaluate-log.ts';
import { evaluationWindow, formatEvaluation, gateVerdict } from './evaluate-report.ts';
import type { FitReport } from './fit.ts';
import { DEFAULT_FTRL } from './ftrl.ts';
import { logExamples } from './log/examples.ts';
import { decisionRange } from './log/range.ts';
import { trainFromLog } from './log/train-log.ts';
import { joinOptions, LOG_OPTIONS, openLogOf } from './log-options.ts';
import { progressBar } from './progress.ts';
import { publishBlob } from './storage.ts';

export const SPEC = {
  name: 'train',
  usage: 'npm run train -- --log DIR|FILE --name NAME [options]',
  summary:
    'Fits a CTR model (FTRL-proximal logistic regression) on the logged decisions and their outcomes, reports it on a time-based holdout, and writes the model blob.',
  options: {
    ...LOG_OPTIONS,
    name: { type: 'string', arg: 'NAME', required: true, help: "the model's name in KV" },
    version: { type: 'string', arg: 'V', help: 'its version (default: the UTC time, 20261123t101500)' },
    slot: { type: 'string', arg: 'ID', help: "one slot's decisions only" },
    kind: { type: 'string', arg: 'KIND', default: 'variant', help: 'decisions of this kind (variant, bid, recommendation, score)' },
    variants: { type: 'string', arg: 'a,b,c', help: `learn only these actions (default: the first ${MAX_VARIANTS} seen)` },
    holdout: {
      type: 'number',
      arg: 'SHARE',
      min: 0,
      max: 1,
      default: 0.2,
      help: "the last share of the log's time range, scored but never learned",
    },
    'holdout-from': { type: 'string', arg: 'ISO|MS', help: '... or the holdout from this time on' },
    policy: { type: 'string', arg: 'JSON', help: 'the policy stored with the model (\'{"type":"greedy","epsilon":0.1}\')' },
    bits: { type: 'integer', min: 1, max: 24, default: DEFAULT_FTRL.bits, help: 'FTRL: 2^bits weight rows' },
    alpha: { type: 'number', min: 0, default: DEFAULT_FTRL.alpha, help: 'FTRL: learning rate' },
    beta: { type: 'number', min: 0, default: DEFAULT_FTRL.beta, help: 'FTRL: learning-rate smoothing' },
    l1: { type: 'number', min: 0, default: DEFAULT_FTRL.l1, help: 'FTRL: L1 regularization' },
    l2: { type: 'number', min: 0, default: DEFAULT_FTRL.l2, help: 'FTRL: L2 regularization' },
    'no-shared': { type: 'boolean', help: 'FTRL: no weights shared across variants' },
    quantize: { type: 'string', choices: ['int8', 'float32'], default: 'int8', help: 'how the blob stores the weights' },
    out: { type: 'string', arg: 'FILE', help: 'the blob (default models/compiled/NAME@VERSION.bin)' },
    report: { type: 'string', arg: 'FILE', help: 'the report as JSON' },
    quiet: { type: 'boolean', help: 'no progress bar' },
    publish: { type: 'boolean', help: 'publish to local KV (with --remote: the real namespace)' },
    remote: { type: 'boolean', help: 'with --publish: the real namespace' },
    gate: { type: 'boolean', help: 'with --publish: only if the model passes the gate (below)' },
    'gate-on': {
      type: 'string',
      choices: ['dr', 'snips', 'ips'],
      default: 'dr',
      help: "the off-policy estimate the gate judges the model's policy by",
    },
  },
  notes: [
    '--gate publishes only if the model beats the constant rate on the holdout and the lower bound of',
    "its policy's off-policy estimate (--gate-on) on the decisions after its training window is at least",
    "the logging policy's observed value, with an effective sample size of 100 or more.",
  ],
} as const satisfies CliSpec;

export function formatReport(r: FitReport): string {
  const h = r.holdout;
  const pct = (x: number) => `${(x * 100).toFixed(3)}%`;
  const lines = [
    `model     ${r.model.name}@${r.model.version}: ${r.model.variants.length} variants, 2^${r.model.bits} rows, ${r.model.nonZero} non-zero weights, ${r.model.bytes} bytes`,
    `train     ${r.train.examples} examples, rate ${pct(r.train.rate)}, progressive log loss ${r.train.progressiveLogLoss.toFixed(5)}`,
    `window    learned from ${r.window ? `${r.window.from} to ${r.window.to} (evaluate reads from ${r.window.to} on)` : 'nothing'}`,
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
      `join      ${j.decisions} decisions, ${j.outcomes} outcomes, ${j.attributed} attributed, ${j.unattributed} unattributed, ${j.late} outside the window, duplicates dropped: ${j.duplicateDecisions} decisions / ${j.duplicateOutcomes} outcomes, ${j.staleDecisions} decisions too late to label${j.unserved > 0 ? `, ${j.unserved} never shown (lost bids: no win or billing notice) left out` : ''}${j.unverified > 0 ? `, ${j.unverified} bid clicks or notices without an exchange (not from our tracker) ignored` : ''}`,
    );
  }
  return lines.join('\n');
}

async function main({ values: a }: ParsedCli<typeof SPEC.options>): Promise<number> {
  if (!a.log.length && !a['r2-local']) throw new UsageError('name the log: --log <folder|file> (repeatable) or --r2-local');
  const version = a.version ?? new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').toLowerCase();
  const policy = a.policy === undefined ? undefined : parsePolicySpec(jsonOption(a.policy, 'policy'));
  if (policy === null)
    throw new UsageError('--policy is not a policy spec: greedy {epsilon}, softmax {temperature, floor} or thompson {floor}');
  const gateOn = a['gate-on'] as 'dr' | 'snips' | 'ips';
  const ftrl = { bits: a.bits, alpha: a.alpha, beta: a.beta, l1: a.l1, l2: a.l2, shared: !a['no-shared'] };
  const holdoutFrom = dateOption(a['holdout-from'], 'holdout-from');
  const share = a.holdout;
  const join = joinOptions(a);

  const log = await openLogOf(a);
  try {
    let cutoff: number;
    if (holdoutFrom !== undefined) cutoff = holdoutFrom;
    else {
      const range = await decisionRange(log);
      if (range === null) throw new CliError('the log holds no decisions');
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
        target: a.label,
        quantize: a.quantize as 'int8' | 'float32',
        variants: a.variants
          ?.split(',')
          .map((v) => v.trim())
          .filter(Boolean),
      },
      join,
      (done, of) => bar.update(done / of, `slice ${done} of ${of}`),
    );
    bar.done();
    if (report.train.examples === 0) {
      throw new CliError(`no decisions to train on before the holdout cutoff (${report.cutoff}); nothing written`);
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
        return 2;
      }
      if (a.gate && !(h.logLoss < h.baselineLogLoss)) {
        console.error(`not published: holdout log loss ${h.logLoss} does not beat the constant-rate baseline ${h.baselineLogLoss}`);
        return 2;
      }
      if (a.gate) {
        // the model's own policy, judged off-policy on the decisions it never learned from
        const model = loadLinear(blob);
        const window = evaluationWindow({ trained: parseTrainingWindow(report.window) });
        const ope = await evaluateExamples(logExamples(log, join, { kind: a.kind, slot: a.slot }), {
          policy: modelPolicy(model),
          target: 'label',
          slot: a.slot,
          kind: a.kind,
          from: window.from,
          to: window.to,
        }).catch((err: Error) => err);
        const refusal =
          ope instanceof Error ? `no out-of-sample decisions to judge the policy on (${ope.message})` : gateVerdict(ope, gateOn, window);
        if (!(ope instanceof Error))
          console.log(formatEvaluation(ope, `${model.name}@${model.version}`, window, [...window.warnings, ...ope.warnings]));
        if (refusal) {
          console.error(`not published: ${refusal}`);
          return 2;
        }
      }
      console.log(await publishBlob(blob, { remote: a.remote, persist: a.persist }));
    }
    return 0;
  } finally {
    await log.close();
  }
}

await cliMain(import.meta.url, SPEC, main);
