/**
 * `npm run evaluate -- --log <folder> (--model FILE | --policy-table FILE) [options]`: USAGE below.
 *
 * Off-policy evaluation of a candidate policy on logged decisions, by default the ones after the
 * model's training window (out of sample): IPS, SNIPS, DR (cross-fitted) and DM with intervals
 * (ope-bounds.ts), the effective sample size, the largest weight and warnings (ope-warnings.ts).
 * With `--publish --gate`, a model is published only if the lower bound of its out-of-sample
 * estimate is at least the logging policy's observed value, with enough effective sample size.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parsePolicySpec } from '../core/policy.ts';
import { attribute } from './attribution.ts';
import { type CandidatePolicy, loadLinear, modelPolicy, modelReward, tablePolicy } from './candidate-policy.ts';
import { dateOption, jsonOption, numberOption, parseCli, runCli, UsageError } from './cli-args.ts';
import { evaluateExamples } from './evaluate-log.ts';
import { evaluationWindow, formatEvaluation, gateVerdict, type Window } from './evaluate-report.ts';
import { joinOptions, LOG_OPTIONS, LOG_USAGE, openSources, readRecords } from './log-options.ts';
import { publishBlob } from './storage.ts';

export const USAGE = `Usage: npm run evaluate -- --log DIR|FILE (--model FILE | --policy-table FILE) [options]

Estimates a candidate policy's value from logged decisions (IPS, SNIPS, DR, DM) with 95 %
intervals, the effective sample size, the largest importance weight and warnings.

The candidate:
  --model FILE            a linear model blob, deciding with its own policy
  --policy JSON           ... or with this one: '{"type":"greedy","epsilon":0.1}'
  --policy-table FILE     fixed action shares per slot: { "slots": { slot: { action: share } } }
  --reward-model FILE     a linear CTR model fitted on other data, for DR and DM
                          (default: per slot-and-action means, cross-fitted over 5 folds)
Which decisions (default: those after the model's training window, recorded in the model;
all of them for a model without one, with a warning):
  --from ISO|MS           from this time (inclusive)
  --to ISO|MS             up to this time (exclusive)
  --all                   every decision, the ones the model learned from included
  --slot ID               one slot's decisions only
${LOG_USAGE}
  --target label|value    reward: the label (default) or its value (revenue)
Output:
  --replicates 500        bootstrap replicates (100 to 100000)
  --seed 1                bootstrap seed
  --json FILE             also write { estimates, ess, maxWeight, window, warnings, ... }
Publishing the model:
  --publish [--remote]    to local KV (or the real namespace)
  --gate                  only if the out-of-sample lower bound of --gate-on (dr, snips or ips;
                          default dr) is at least the logging policy's observed value and the
                          effective sample size is at least 100
  -h, --help              this text`;

export const OPTIONS = {
  ...LOG_OPTIONS,
  model: { type: 'string' },
  policy: { type: 'string' },
  'policy-table': { type: 'string' },
  'reward-model': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  all: { type: 'boolean', default: false },
  target: { type: 'string', default: 'label' },
  slot: { type: 'string' },
  replicates: { type: 'string', default: '500' },
  seed: { type: 'string', default: '1' },
  json: { type: 'string' },
  publish: { type: 'boolean', default: false },
  remote: { type: 'boolean', default: false },
  gate: { type: 'boolean', default: false },
  'gate-on': { type: 'string', default: 'dr' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

async function main(): Promise<void> {
  const { values: a } = parseCli({ options: OPTIONS });
  if (a.help) {
    console.log(USAGE);
    return;
  }
  if (a.target !== 'label' && a.target !== 'value') throw new UsageError('--target is label or value');
  const target = a.target;
  const gateOn = a['gate-on'];
  if (gateOn !== 'dr' && gateOn !== 'snips' && gateOn !== 'ips') throw new UsageError('--gate-on is dr, snips or ips');
  if (a.publish && !a.model) throw new UsageError('--publish needs --model');
  if (!a.model === !a['policy-table']) throw new UsageError('name the candidate: --model FILE or --policy-table FILE');
  if (a.policy !== undefined && !a.model) throw new UsageError('--policy goes with --model');
  if (!a.log?.length && !a['r2-local']) throw new UsageError('name the log: --log <folder|file> (repeatable) or --r2-local');
  const replicates = numberOption(a.replicates, 500, 'replicates', 100, 100_000);
  const seed = numberOption(a.seed, 1, 'seed');
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
    policy = tablePolicy(jsonOption(await readFile(a['policy-table']!, 'utf8'), 'policy-table') as never);
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

  const open = await openSources(a);
  try {
    const report = await evaluateExamples(attribute(readRecords(open.sources), join), {
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
      throw new Error(
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
        process.exitCode = 2;
        return;
      }
      console.log(await publishBlob(blob!, { remote: a.remote, persist: a.persist }));
    }
  } finally {
    await open.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) runCli('evaluate', USAGE, main);
