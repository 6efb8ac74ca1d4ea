/**
 * One measured run, in its own process so peak memory (maxRSS) is this run's alone:
 * `node bench/train/run-one.ts <train|parse> <log dir>` prints one JSON line.
 *   train: read → attribute → extract features → FTRL update (the `npm run train` pipeline)
 *   parse: read → JSON.parse only (the floor any reader of this log pays)
 */
import { attribute } from '../../src/train/attribution.ts';
import { fit } from '../../src/train/fit.ts';
import { DEFAULT_FTRL } from '../../src/train/ftrl.ts';
import { pathSources, readRecords, type ReadStats } from '../../src/train/log-reader.ts';

const [mode, dir, cutoffArg] = process.argv.slice(2);
const sources = await pathSources(dir!);
const stats: ReadStats = { lines: 0, bad: 0, bytesDone: 0 };
const t0 = performance.now();
const c0 = process.cpuUsage();
let auc = NaN;
if (mode === 'train') {
  const JOIN = { labels: new Set(['click']), windowMs: 30 * 60_000, graceMs: 10 * 60_000, skewMs: 60_000 };
  const { report } = await fit(attribute(readRecords(sources, stats), JOIN), {
    name: 'bench',
    version: 'b',
    ftrl: DEFAULT_FTRL,
    cutoff: Number(cutoffArg),
    target: 'click',
  });
  auc = report.holdout.auc;
} else {
  for await (const b of readRecords(sources, stats)) void b;
}
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6; // this process's CPU: less skewed than wall time on a shared machine
console.log(
  JSON.stringify({
    mode,
    records: stats.lines,
    seconds,
    perSecond: stats.lines / seconds,
    cpuSeconds,
    perCpuSecond: stats.lines / cpuSeconds,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    heapUsedMB: process.memoryUsage().heapUsed / 2 ** 20,
    auc,
  }),
);
