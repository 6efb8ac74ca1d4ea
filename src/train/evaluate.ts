/**
 * `npm run evaluate -- --log <folder> (--model FILE | --policy-table FILE) [options]`
 *
 * Off-policy evaluation of a candidate policy on a logged period: IPS, SNIPS, DR (and the
 * reward model alone, DM) with Poisson-bootstrap confidence intervals, next to the logging
 * policy's observed value. With `--publish --gate`, a candidate model is published only if the
 * lower bound of its estimate (`--gate-on dr|snips|ips`) is at least the logging policy's value.
 *
 *   --log DIR|FILE | --r2-local  --site default  --label click --window 30m   as for `npm run train`
 *   --model FILE [--policy JSON]  a linear model blob, with its own policy or this one
 *   --policy-table FILE           fixed action shares per slot: { "slots": { slot: { action: share } } }
 *   --reward-model FILE           a linear CTR model for DR's q(x, a) (default: per-slot-action means)
 *   --target label|value  --slot ID  --replicates 500  --seed 1  --json FILE
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parsePolicySpec } from '../core/policy.ts';
import { loadLinear, meanReward, modelPolicy, modelReward, tablePolicy, type CandidatePolicy } from './candidate-policy.ts';
import { evaluateExamples, rewardMeans, type EvaluateReport } from './evaluate-log.ts';
import { logExamples } from './log/examples.ts';
import { joinOptions, LOG_OPTIONS, openLogOf } from './log-options.ts';
import { publishBlob } from './storage.ts';

export function formatEvaluation(r: EvaluateReport, label: string): string {
  const f = (x: number) => (Math.abs(x) < 1 ? `${(x * 100).toFixed(3)}%` : x.toFixed(4));
  const row = (name: string, e: { value: number; low: number; high: number }) =>
    `${name.padEnd(22)} ${f(e.value).padStart(9)}   [${f(e.low)}, ${f(e.high)}]`;
  return [
    `${r.n} logged decisions (${r.skipped} skipped); candidate: ${label}`,
    `${'estimate'.padEnd(22)} ${'value'.padStart(9)}   95% bootstrap interval`,
    row('logging (observed)', r.logging),
    row('IPS', r.ips),
    row('SNIPS', r.snips),
    row('DR', r.dr),
    row('DM (reward model)', r.dm),
    `importance weights: mean ${r.meanWeight.toFixed(3)}, max ${r.maxWeight.toFixed(2)}, effective sample size ${Math.round(r.effectiveSampleSize)}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      ...LOG_OPTIONS,
      model: { type: 'string' },
      policy: { type: 'string' },
      'policy-table': { type: 'string' },
      'reward-model': { type: 'string' },
      target: { type: 'string', default: 'label' },
      slot: { type: 'string' },
      replicates: { type: 'string', default: '500' },
      seed: { type: 'string', default: '1' },
      json: { type: 'string' },
      publish: { type: 'boolean', default: false },
      remote: { type: 'boolean', default: false },
      gate: { type: 'boolean', default: false },
      'gate-on': { type: 'string', default: 'dr' },
    },
  });
  if (a.target !== 'label' && a.target !== 'value') throw new Error('--target is label or value');
  const target = a.target;
  let policy: CandidatePolicy;
  let label: string;
  let blob: Uint8Array | null = null;
  if (a.model) {
    blob = new Uint8Array(await readFile(a.model));
    const override = a.policy === undefined ? undefined : parsePolicySpec(JSON.parse(a.policy));
    if (override === null) throw new Error('--policy is not a valid policy spec');
    const model = loadLinear(blob);
    policy = modelPolicy(model, override);
    label = `${model.name}@${model.version} (${JSON.stringify(override ?? model.policy)})`;
  } else if (a['policy-table']) {
    policy = tablePolicy(JSON.parse(await readFile(a['policy-table'], 'utf8')));
    label = `table ${a['policy-table']}`;
  } else throw new Error('name the candidate: --model FILE or --policy-table FILE');

  const join = joinOptions(a);
  const log = await openLogOf(a);
  try {
    for (const s of log.skipped) console.warn(`skipped ${s.path}: ${s.reason}`);
    const means = await rewardMeans(logExamples(log, join), target);
    const fallback = meanReward(means);
    const reward = a['reward-model'] ? modelReward(loadLinear(new Uint8Array(await readFile(a['reward-model']))), fallback) : fallback;
    const report = await evaluateExamples(logExamples(log, join), {
      policy,
      reward,
      target,
      slot: a.slot,
      replicates: Number(a.replicates),
      seed: Number(a.seed),
    });
    console.log(formatEvaluation(report, label));
    if (a.json) await writeFile(a.json, JSON.stringify({ candidate: label, ...report }, null, 2));
    if (a.publish) {
      if (!blob) throw new Error('--publish needs --model');
      const key = a['gate-on'] as 'dr' | 'snips' | 'ips';
      if (!['dr', 'snips', 'ips'].includes(key)) throw new Error('--gate-on is dr, snips or ips');
      if (a.gate && !(report[key].low >= report.logging.value)) {
        console.error(
          `not published: ${key.toUpperCase()} lower bound ${report[key].low} is below the logging policy's ${report.logging.value}`,
        );
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
    console.error(`evaluate: ${(err as Error).message}`);
    process.exit(1);
  });
}
