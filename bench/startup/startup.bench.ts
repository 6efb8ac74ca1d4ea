/**
 * `npm run bench:startup`: attune's start-up against GrowthBook's edge app
 * (@growthbook/edge-cloudflare, bench/startup/growthbook/), both built by wrangler the same way
 * (`wrangler deploy --dry-run --outfile`, what `wrangler check startup` builds), then measured in
 * alternation (attune, GrowthBook, attune, …) so the machine's slow stretches hit both alike:
 *   - `wrangler check startup --worker <bundle>`: "Active" time of its start-up CPU profile (read
 *     from the .cpuprofile it writes, summed as wrangler sums it, and checked against the figure
 *     it prints). A sampling profiler's clock runs while the thread waits for a core, so on a busy
 *     machine this swings;
 *   - workerd's own CPU for the same start-up (bundle-cpu.ts: time on a core, from /proc), less
 *     what a Worker with an empty module costs, which holds still under load;
 *   - beside them, attune's side of the trade: a fresh isolate's first POST /v1/decide and the
 *     ones after it (bench:first's `freshIsolate`), on the same bundle.
 * `--against DIR` adds a third Worker to the alternation: attune as checked out in DIR (e.g. a
 * `git worktree` of main), its first decisions beside this tree's, so a change to start-up is
 * measured before and after in the same run.
 * Everything runs offline (wrangler builds and profiles locally). The last line is JSON (ms).
 * Run: npm run bench:startup [-- --runs 9] [-- --against ../main]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIRST_REQUESTS, type FirstRequests, freshIsolate } from '../http/first-request.bench.ts';
import { median, ms3 } from '../http/raw-latency.ts';
import { controlBundle, readBundle, startupCpu } from './bundle-cpu.ts';
import { cliArgs } from '../../src/train/cli.ts';
import { activeMs } from './cpu-profile.ts';

const { values } = cliArgs({
  name: 'bench:startup',
  usage: 'npm run bench:startup [-- --runs N] [-- --against DIR]',
  summary:
    "attune's start-up against GrowthBook's edge app (wrangler check startup's Active time and workerd's CPU), beside a fresh isolate's first decisions; offline.",
  options: {
    runs: { type: 'integer', min: 1, default: 9, help: 'start-ups of each Worker, measured in alternation' },
    against: { type: 'string', arg: 'DIR', help: 'also measure attune as checked out in DIR ("before"), in the same alternation' },
  },
});
const runs = values.runs;
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false' };
const tmp = mkdtempSync(join(tmpdir(), 'attune-startup-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function wrangler(args: string[]): string {
  const r = spawnSync('npx', ['--no-install', 'wrangler', ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrangler ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const WORKERS = {
  attune: [] as string[],
  growthbook: ['--config', 'bench/startup/growthbook/wrangler.toml'],
  before: values.against === undefined ? null : ['--config', join(values.against, 'wrangler.toml')],
};
type Name = keyof typeof WORKERS;
const names = (Object.keys(WORKERS) as Name[]).filter((n) => WORKERS[n] !== null);
const bundles = {} as Record<Name, string>;
const parsed = {} as Record<Name, Awaited<ReturnType<typeof readBundle>>>;
for (const name of names) {
  bundles[name] = join(tmp, `${name}.bundle`);
  wrangler(['deploy', '--dry-run', ...WORKERS[name]!, '--outfile', bundles[name]]);
  parsed[name] = await readBundle(bundles[name]);
}
const modulesOf = (name: Name) => ({ modulesRoot: '/', modules: parsed[name].modules.map((m) => ({ ...m, path: `/${m.path}` })) });
const attunes = names.filter((n) => n !== 'growthbook');

/** `wrangler check startup` on a built bundle: the profile's active ms, checked against the printed figure. */
function checkStartup(name: Name, run: number): { active: number; bundleKiB: number } {
  const profile = join(tmp, `${name}-${run}.cpuprofile`);
  const out = wrangler(['check', 'startup', '--worker', bundles[name], '--outfile', profile]);
  const printed = /Active: ([\d.]+) ms/.exec(out);
  const size = /Bundle: ([\d.]+) KiB/.exec(out);
  if (!printed || !size) throw new Error(`wrangler check startup printed no Active time or bundle size:\n${out}`);
  const active = activeMs(JSON.parse(readFileSync(profile, 'utf8')));
  if (Math.abs(active - Number(printed[1])) > 0.051) throw new Error(`profile says ${active} ms active, wrangler printed ${printed[1]}`);
  return { active, bundleKiB: Number(size[1]) };
}

const active: Record<Name, number[]> = { attune: [], growthbook: [], before: [] };
const cpu: Record<Name | 'control', number[]> = { attune: [], growthbook: [], before: [], control: [] };
const firsts: Record<Name, FirstRequests[]> = { attune: [], growthbook: [], before: [] };
const first = firsts.attune;
const kib = {} as Record<Name, number>;
for (let r = 0; r < runs; r++) {
  for (const name of names) {
    const c = checkStartup(name, r);
    active[name].push(c.active);
    kib[name] = c.bundleKiB;
  }
  for (const name of names) cpu[name].push((await startupCpu(parsed[name])).startup);
  cpu.control.push((await startupCpu(controlBundle)).startup);
  for (const name of attunes) firsts[name].push(await freshIsolate(modulesOf(name)));
  const before = WORKERS.before
    ? `; before: Active ${active.before[r]!.toFixed(1)}, CPU ${cpu.before[r]!.toFixed(1)}, first decide ${firsts.before[r]!.ms[0]!.toFixed(1)} ms (${firsts.before[r]!.cpu[0]!.toFixed(1)} ms CPU)`
    : '';
  console.log(
    `run ${r + 1}/${runs}: Active attune ${active.attune[r]!.toFixed(1)}, GrowthBook ${active.growthbook[r]!.toFixed(1)}; ` +
      `workerd CPU attune ${cpu.attune[r]!.toFixed(1)}, GrowthBook ${cpu.growthbook[r]!.toFixed(1)}, empty ${cpu.control[r]!.toFixed(1)}; ` +
      `attune's first decide ${first[r]!.ms[0]!.toFixed(1)} ms (${first[r]!.cpu[0]!.toFixed(1)} ms CPU)${before}`,
  );
}

const floor = median(cpu.control);
const row = (name: Name) => ({ active: median(active[name]), activeMin: Math.min(...active[name]), cpu: median(cpu[name]) - floor });
const a = row('attune');
const g = row('growthbook');
const pairRatio = (xs: number[], ys: number[], less = 0) => median(xs.map((x, i) => (x - less) / (ys[i]! - less)));
const firstMedians = (k: keyof FirstRequests, of = first) =>
  Array.from({ length: FIRST_REQUESTS }, (_, i) => median(of.map((t) => t[k][i]!)));
const [firstMs, firstCpu] = [firstMedians('ms'), firstMedians('cpu')];
const b = WORKERS.before ? row('before') : null;

console.log(`\nstart-up, ${runs} alternating runs (medians; "min" is the least, the machine's best moment)`);
console.log('worker        bundle KiB   check startup Active ms (min)   workerd CPU ms, less an empty Worker');
for (const name of names) {
  const x = name === 'attune' ? a : name === 'before' ? b! : g;
  console.log(
    `${name.padEnd(12)} ${kib[name].toFixed(1).padStart(11)}   ${x.active.toFixed(1).padStart(12)} (${x.activeMin.toFixed(1)})${' '.repeat(12)}${x.cpu.toFixed(1).padStart(8)}`,
  );
}
console.log(`an empty Worker's start-up request: ${floor.toFixed(1)} ms of workerd CPU (subtracted above)`);
console.log(
  `attune / GrowthBook: Active ${(a.active / g.active).toFixed(2)}× (per-run pairs ${pairRatio(active.attune, active.growthbook).toFixed(2)}×), ` +
    `workerd CPU ${(a.cpu / g.cpu).toFixed(2)}× (pairs ${pairRatio(cpu.attune, cpu.growthbook, floor).toFixed(2)}×)`,
);
console.log(`attune, fresh isolate, POST /v1/decide, median of ${runs}:`);
for (let i = 0; i < FIRST_REQUESTS; i++)
  console.log(`  request ${i + 1}: ${firstMs[i]!.toFixed(1)} ms, workerd CPU ${firstCpu[i]!.toFixed(1)} ms`);
if (b) {
  const [bMs, bCpu] = [firstMedians('ms', firsts.before), firstMedians('cpu', firsts.before)];
  console.log(
    `before (${values.against}) / GrowthBook: Active ${(b.active / g.active).toFixed(2)}× (pairs ${pairRatio(active.before, active.growthbook).toFixed(2)}×), ` +
      `workerd CPU ${(b.cpu / g.cpu).toFixed(2)}× (pairs ${pairRatio(cpu.before, cpu.growthbook, floor).toFixed(2)}×)`,
  );
  console.log(`before, fresh isolate, POST /v1/decide, median of ${runs}:`);
  for (let i = 0; i < FIRST_REQUESTS; i++)
    console.log(`  request ${i + 1}: ${bMs[i]!.toFixed(1)} ms, workerd CPU ${bCpu[i]!.toFixed(1)} ms`);
}
console.log('reproduce: npm run bench:startup');
console.log(
  JSON.stringify({
    attune: {
      active: ms3(a.active),
      cpu: ms3(a.cpu),
      firstRequest: { ms: ms3(firstMs[0]!), cpu: ms3(firstCpu[0]!) },
      laterRequest: { ms: ms3(firstMs.at(-1)!), cpu: ms3(firstCpu.at(-1)!) },
    },
    growthbook: { active: ms3(g.active), cpu: ms3(g.cpu) },
    ratio: { active: ms3(a.active / g.active), cpu: ms3(a.cpu / g.cpu) },
    ...(b && {
      before: {
        active: ms3(b.active),
        cpu: ms3(b.cpu),
        firstRequest: { ms: ms3(firstMedians('ms', firsts.before)[0]!), cpu: ms3(firstMedians('cpu', firsts.before)[0]!) },
        ratio: { active: ms3(b.active / g.active), cpu: ms3(b.cpu / g.cpu) },
      },
    }),
  }),
);
