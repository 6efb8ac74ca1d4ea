/**
 * Cuts the slice of UCI Online Retail that ships in data-samples/ (so `npm run recs:eval` works
 * in a fresh clone): the lines of customers whose CustomerID, as written in the file, hashes
 * (murmur3, seed 0x511ce) below SHARE, byte for byte, header first, in file order; lines without
 * a customer are left out. Gzipped at level 9 (deterministic: no name or time in the header).
 *
 *   node scripts/make-retail-slice.ts [source.csv] [out.csv.gz]
 *
 * data-samples/online-retail-slice.md says where the data comes from and what was cut; rerun
 * this and update it together.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { murmur3 } from '../src/core/murmur3.ts';
import { csvFields } from '../src/train/recs/baskets.ts';

export const SHARE = 0.15;
const SEED = 0x511ce;

const source = process.argv[2] ?? '../shared/data/retail/online_retail_2011-08-01_2011-11-25.csv';
const out = process.argv[3] ?? 'data-samples/online-retail-slice.csv.gz';
const lines = readFileSync(source, 'utf8').split('\n');
const kept = [lines[0]!];
const customers = new Set<string>();
for (const line of lines.slice(1)) {
  if (line === '') continue;
  const customer = csvFields(line)[6] ?? '';
  if (customer === '' || murmur3(customer, SEED) / 2 ** 32 >= SHARE) continue;
  kept.push(line);
  customers.add(customer);
}
const text = `${kept.join('\n')}\n`;
const gz = gzipSync(text, { level: 9 });
writeFileSync(out, gz);
console.log(
  `${out}: ${kept.length - 1} of ${lines.length - 2} lines, ${customers.size} customers, ${text.length} bytes, ${gz.length} gzipped`,
);
