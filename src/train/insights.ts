/**
 * `npm run insights -- --log DIR|--r2-local [--from ISO --to ISO] --out report.html [--json findings.json]`
 *
 * What changed in the log, in words: metrics per slot/variant, experiment arm, campaign and
 * model in the chosen period against the one before, the shifts that are clear and large, the
 * segments that prefer another variant, and anomalies (docs/insights.md). Writes one
 * self-contained HTML file and, with --json, the findings as data.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseDuration } from './attribution.ts';
import { CliError, cliMain, type CliSpec, dateOption, UsageError } from './cli.ts';
import { reportName } from '../core/report-keys.ts';
import { asJson } from './insights/findings.ts';
import { publishLocal } from './insights/publish.ts';
import { reportHtml } from './insights/report-html.ts';
import { runInsights } from './insights/run.ts';
import { LOG_SOURCE_OPTIONS, openLogOf } from './log-options.ts';
import { progressBar } from './progress.ts';

export const SPEC = {
  name: 'insights',
  usage:
    'npm run insights -- --log DIR|--r2-local [--from ISO --to ISO] --out report.html [--json findings.json] [--publish] [--history DAYS] [--stale-days N]',
  summary:
    "A plain-language report of what changed in the log: each metric of the chosen period (default: the log's last full UTC day) against the period before and the same weekday a week earlier, with intervals; only shifts both clear and large become findings, plus segments that prefer another variant and anomalies (control limits fitted on history, stale models, calibration drift, …).",
  options: {
    ...LOG_SOURCE_OPTIONS,
    out: { type: 'string', arg: 'FILE', help: 'the HTML report to write' },
    json: { type: 'string', arg: 'FILE', help: 'also write the findings as JSON: { findings: [...] }' },
    from: { type: 'string', arg: 'ISO|MS', help: "the chosen period's start (default: the last full day's)" },
    to: { type: 'string', arg: 'ISO|MS', help: "the chosen period's end (default: a day after --from, or the last full day's end)" },
    window: { type: 'string', arg: 'DURATION', default: '30m', help: 'how long after its decision an outcome counts' },
    fdr: {
      type: 'number',
      min: 0.0001,
      max: 0.5,
      default: 0.05,
      help: 'the false-discovery rate over all comparisons (Benjamini–Hochberg)',
    },
    'min-change': { type: 'number', min: 0, default: 0.1, help: 'the smallest relative change that is a finding (0.1: 10 %)' },
    history: {
      type: 'integer',
      arg: 'DAYS',
      min: 0,
      default: 14,
      help: 'days read before the comparison period: the same weekday a week earlier, control limits, model version age',
    },
    'stale-days': {
      type: 'number',
      min: 0,
      default: 7,
      help: 'a model whose version in use is older than this many days is stale (an anomaly)',
    },
    publish: { type: 'boolean', help: 'also upload the report to the local R2 bucket (reports/…), where the admin page lists it' },
  },
  notes: ['Metric names, finding kinds and thresholds: docs/insights.md.'],
} as const satisfies CliSpec;

await cliMain(import.meta.url, SPEC, async ({ values }) => {
  if (!values.out && !values.json && !values.publish)
    throw new UsageError('name an output: --out report.html, --json findings.json and/or --publish');
  let windowMs: number;
  try {
    windowMs = parseDuration(values.window);
  } catch (err) {
    throw new UsageError(`--window: ${(err as Error).message}`);
  }
  const from = dateOption(values.from, 'from');
  const to = dateOption(values.to ?? (from === undefined ? undefined : String(from + 86_400_000)), 'to');
  if (from !== undefined && to !== undefined && !(to > from)) throw new UsageError('--to must be after --from');
  const log = await openLogOf(values);
  const bar = progressBar('insights');
  try {
    const r = await runInsights(log, {
      from,
      to,
      windowMs,
      fdr: values.fdr,
      minChange: values['min-change'],
      historyDays: values.history,
      staleDays: values['stale-days'],
      onPhase: (phase, done, total) => bar.update(done / total, phase),
    });
    bar.done();
    if (r === null) throw new CliError('the log holds no decision');
    const write = (path: string, text: string) => {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    };
    const html = reportHtml(r);
    const json = `${JSON.stringify({ findings: r.findings.map(asJson) }, null, 2)}\n`;
    if (values.out) write(values.out, html);
    if (values.json) write(values.json, json);
    if (values.publish) {
      const keys = await publishLocal(reportName(log.site, r.periods.from, Date.now()), html, json, values.persist);
      console.log(`published: ${keys.join(', ')} (local R2; the admin page lists it at /ui/experiments/_reports)`);
    }
    const kinds = ['shift', 'anomaly', 'segment'].map((k) => `${r.findings.filter((f) => f.kind === k).length} ${k}`);
    console.log(
      `${r.decisions.toLocaleString('en-US')} decisions; ${r.comparisons.shift} comparisons, ${r.comparisons.anomaly} anomaly checks; findings: ${kinds.join(', ')}`,
    );
    for (const f of r.findings.slice(0, 5)) console.log(`  ${f.sentence}`);
    if (values.out) console.log(`report: ${values.out}`);
  } finally {
    bar.done();
    await log.close();
  }
});
