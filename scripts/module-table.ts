/**
 * `wrangler dev` lists every module it attaches, in a box two lines per module, on every build;
 * the split build (scripts/build-worker.mjs) has about eighty, which buried `npm start`'s own
 * lines. `moduleTableFilter` passes wrangler's output through line by line and writes that
 * table as one line (how many modules, and their size in all); everything else as it came.
 */
export function moduleTableFilter(write: (line: string) => void): (line: string) => void {
  let table: string[] | null = null; // the table's lines so far, while inside it
  return (line) => {
    if (table === null) {
      if (/^Attaching additional modules:/.test(line)) table = [];
      else write(line);
      return;
    }
    table.push(line);
    if (!/^[┌├│└]/.test(line)) {
      // not the table wrangler draws: give back what was held, unchanged
      write('Attaching additional modules:');
      for (const l of table) write(l);
      table = null;
    } else if (line.startsWith('└')) {
      write(summary(table));
      table = null;
    }
  };
}

const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 * 1024 };

function summary(table: readonly string[]): string {
  let modules = 0;
  let bytes = 0;
  for (const line of table) {
    const cells = line.split('│').map((c) => c.trim());
    if (cells.length < 4 || cells[1] === 'Name' || cells[1]!.startsWith('Total')) continue; // the header, wrangler's own total
    modules++;
    const size = /^([\d.]+) (B|KiB|MiB)$/.exec(cells[3]!);
    if (size) bytes += Number(size[1]) * UNITS[size[2]!]!;
  }
  return `Attaching ${modules} additional modules, ${(bytes / 1024).toFixed(1)} KiB (the Worker split at each import(); npm run bundle:size lists them)`;
}
