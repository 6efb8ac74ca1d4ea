/**
 * The baseline of `npm run bench:train`: merely gunzip and JSON.parse every record of a log
 * folder's `.ndjson.gz` objects in one Node process, the simplest fast way (whole files,
 * synchronously: a stream per small object costs several times more). Prints one JSON line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const dir = process.argv[2]!;
let records = 0;
let bad = 0;
for (const rel of (readdirSync(dir, { recursive: true }) as string[]).sort()) {
  if (!rel.endsWith('.ndjson.gz')) continue;
  for (const line of gunzipSync(readFileSync(join(dir, rel)))
    .toString('utf8')
    .split('\n')) {
    if (line === '') continue;
    try {
      JSON.parse(line);
      records++;
    } catch {
      bad++;
    }
  }
}
const cpu = process.cpuUsage();
console.log(
  JSON.stringify({ records, bad, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }),
);
