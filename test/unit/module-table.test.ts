import { describe, expect, it } from 'vitest';
import { moduleTableFilter } from '../../scripts/module-table.ts';

const TABLE = [
  'Attaching additional modules:',
  '┌──────────────────────────┬──────┬───────────┐',
  '│ Name                     │ Type │ Size      │',
  '├──────────────────────────┼──────┼───────────┤',
  '│ admin-routes-BFGSLX5N.js │ esm  │ 6.32 KiB  │',
  '├──────────────────────────┼──────┼───────────┤',
  '│ chunk-ABC.js             │ esm  │ 512 B     │',
  '├──────────────────────────┼──────┼───────────┤',
  '│ checksum.wasm            │ wasm │ 1.5 KiB   │',
  '├──────────────────────────┼──────┼───────────┤',
  '│ Total (3 modules)        │      │ 8.32 KiB  │',
  '└──────────────────────────┴──────┴───────────┘',
];

const run = (lines: string[]) => {
  const out: string[] = [];
  const filter = moduleTableFilter((l) => out.push(l));
  for (const l of lines) filter(l);
  return out;
};

describe("wrangler dev's module table", () => {
  it('becomes one line with the count and size; the lines around it pass unchanged', () => {
    expect(run(['⎔ Starting local server...', ...TABLE.slice(0, 10), ...TABLE.slice(11), '[wrangler:info] Ready'])).toEqual([
      '⎔ Starting local server...',
      'Attaching 3 additional modules, 8.3 KiB (the Worker split at each import(); npm run bundle:size lists them)',
      '[wrangler:info] Ready',
    ]);
  });

  it('a total row is not a module', () => {
    expect(run(TABLE)[0]).toMatch(/^Attaching 3 additional modules, 8\.3 KiB/);
  });

  it('gives back what it held when the lines turn out not to be the table', () => {
    const lines = ['Attaching additional modules:', '│ something', 'plain text'];
    expect(run(lines)).toEqual(lines);
  });
});
