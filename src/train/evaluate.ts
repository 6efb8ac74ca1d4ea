/**
 * `npm run evaluate -- --log <folder> (--model FILE | --policy-table FILE) [options]`: SPEC below (`--help`).
 *
 * Off-policy evaluation of a candidate policy on logged decisions, by default the ones after the
 * model's training window (out of sample): IPS, SNIPS, DR (cross-fitted) and DM with intervals
 * (ope-bounds.ts), the effective sample size, the largest weight and warnings (ope-warnings.ts).
 * With `--publish --gate`, a model is published only if the lower bound of its out-of-sample
 * estimate is at least the logging policy's observed value, with enough effective sample size.
 * The log is read as `npm run train` reads it (log/examples.ts: DuckDB, attribution in SQL).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parsePolicySpec } from '../core/policy.ts';
import { type CandidatePolicy, loadLinear, modelPolicy, modelReward, tablePolicy } from './candidate-policy.ts';
import { CliError, type CliSpec, cliMain, dateOption, jsonOption, type ParsedCli, UsageError } from './cli.ts';
import { evaluateExamples } from './evaluate-log.ts';
import { evaluationWindow, formatEvaluation, gateVerdict, type Window } from './evaluate-report.ts';
import { logExamples } from './log/examples.ts';
import { joinOptions, LOG_OPTIONS, openLogOf } from './log-options.ts';
import { publishBlob } from './storage.ts';

export const SPEC = {
  name: 'evaluate',
  usage: 'npm run evaluate -- --log DIR|FILE (--model FILE | --policy-table FILE) [options]',
  summary:
    "Estimates a candidate policy's value from logged decisions (IPS, SNIPS, DR, DM) with 95 % intervals, the effective sample size, the largest importance weight and warnings. By default it reads the decisions after the model's training window (recorded in the model); all of them for a model without one, with a warning.",
  options: {
    model: { type: 'string', arg: 'FILE', help: 'the candidate: a linear model blob, deciding with its own policy' },
    policy: { type: 'string', arg: 'JSON', help: '... or with this one: \'{"type":"greedy","epsilon":0.1}\'' },
    'policy-table': {
      type: 'string',
      arg: 'FILE',
      help: '... or fixed action shares per slot: { "slots": { slot: { action: share } } }',
    },
    'reward-model': {
      type: 'string',
      arg: 'FILE',
      help: 'a linear CTR model fitted on other data, for DR and DM (default: per slot-and-action means, cross-fitted over 5 folds)',
    },
    from: { type: 'string', arg: 'ISO|MS', help: 'decisions from this time (inclusive)' },
    to: { type: 'string', arg: 'ISO|MS', help: 'decisions up to this time (exclusive)' },
    all: { type: 'boolean', help: 'every decision, the ones the model learned from included' },
    slot: { type: 'string', arg: 'ID', help: "one slot's decisions only" },
    ...LOG_OPTIONS,
    target: { type: 'string', choices: ['label', 'value'], default: 'label', help: 'the reward: the label or its value (revenue)' },
    replicates: { type: 'integer', min: 100, max: 100_000, default: 500, help: 'bootstrap replicates' },
    seed: { type: 'number', default: 1, help: 'bootstrap seed' },
    json: { type: 'string', arg: 'FILE', help: 'also write { estimates, ess, maxWeight, window, warnings, ... }' },
    publish: { type: 'boolean', help: 'publish the model to local KV (with --remote: the real namespace)' },
    remote: { type: 'boolean', help: 'with --publish: the real namespace' },
    gate: { type: 'boolean', help: 'with --publish: only if the model passes the gate (below)' },
    'gate-on': { type: 'string', choices: ['dr', 'snips', 'ips'], default: 'dr', help: 'the estimate the gate judges by' },
  },
  notes: [
    '--gate publishes only if the out-of-sample lower bound of --gate-on is at least the logging',
    "policy's observed value and the effective sample size is at least 100.",
  ],
} as const satisfies CliSpec;

async function main({ values: a }: ParsedCli<typeof SPEC.options>): Promise<number> {
  const target = a.target as 'label' | 'value';
  const gateOn = a['gate-on'] as 'dr' | 'snips' | 'ips';
  if (a.publish && !a.model) throw new UsageError('--publish needs --model');
  if (!a.model === !a['policy-table']) throw new UsageError('name the candidate: --model FILE or --policy-table FILE');
  if (a.policy !== undefined && !a.model) throw new UsageError('--policy goes with --model');
  if (!a.log.length && !a['r2-local']) throw new UsageError('name the log: --log <folder|file> (repeatable) or --r2-local');
  const { replicates, seed } = a;
  const join = joinOptions(a);
  const from = dateOption(a.from, 'from');
  const to = dateOption(a.to, 'to');

  let policy: CandidatePolicy;
  let label: string;
  let blob: Uint8Array | null = null;
  let trained: Window['trained'];
  if (a.model) {
    blob = new Uint8Array(await readFile(a.model));
    const override = a.policy === undefined ? undefined : parsePolicySpec(jsonOption(a.policy, 'policy'));
    if (override === null)
      throw new UsageError('--policy is not a policy spec: greedy {epsilon}, softmax {temperature, floor} or thompson {floor}');
    const model = loadLinear(blob);
    policy = modelPolicy(model, override);
    label = `${model.name}@${model.version} (${JSON.stringify(override ?? model.policy)})`;
    trained = model.trainingWindow ?? null;
  } else {
    const file = a['policy-table']!;
    let table: unknown;
    try {
      table = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      throw new CliError(`--policy-table ${file} is not valid JSON: ${err.message}`);
    }
    policy = tablePolicy(table as never);
    label = `table ${a['policy-table']}`;
  }
  const rewardModel = a['reward-model'] ? loadLinear(new Uint8Array(await readFile(a['reward-model']))) : undefined;
  const window = evaluationWindow({
    from,
    to,
    all: a.all,
    trained,
    rewardTrained: rewardModel?.trainingWindow,
  });

  const log = await openLogOf(a);
  try {
    for (const s of log.skipped) console.warn(`skipped ${s.path}: ${s.reason}`);
    const report = await evaluateExamples(logExamples(log, join), {
      policy,
      reward: rewardModel ? modelReward(rewardModel) : undefined,
      target,
      slot: a.slot,
      from: window.from,
      to: window.to,
      replicates,
      seed,
    }).catch((err: Error) => {
      if (window.source !== 'model') throw err;
      throw new CliError(
        `${err.message}. The model learned from this log up to ${window.json.from}: evaluate a later log, or pass --all for an in-sample estimate`,
      );
    });
    const warnings = [...window.warnings, ...report.warnings];
    console.log(formatEvaluation(report, label, window, warnings));
    if (a.json) {
      const { ips, snips, dr, dm, logging, ...rest } = report;
      await writeFile(
        a.json,
        JSON.stringify({ candidate: label, estimates: { ips, snips, dr, dm }, logging, ...rest, window: window.json, warnings }, null, 2),
      );
    }
    if (a.publish) {
      const refusal = a.gate ? gateVerdict(report, gateOn, window) : null;
      if (refusal) {
        console.error(`not published: ${refusal}`);
        return 2;
      }
      console.log(await publishBlob(blob!, { remote: a.remote, persist: a.persist }));
    }
    return 0;
  } finally {
    await log.close();
  }
}

await cliMain(import.meta.url, SPEC, main);
