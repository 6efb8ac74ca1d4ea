/**
 * Interleaved rounds: every case timed in turn, a short batch each, round after round.
 *
 * This VM's speed swings by up to 2× for seconds at a time (other tenants of the host), and
 * mitata times one case after another: a case that lands in a slow stretch looks slow, and the
 * ratios between rows move with the order they ran in. Here each round times every case within
 * a few milliseconds of the others (the order rotates per round), so a slow stretch hits them
 * all alike. Reported per case: the median batch (per call), the fastest quarter's boundary
 * (q1, the machine's speed on a good stretch), and the median over rounds of the case's time
 * divided by the first case's in the same round: a ratio the stretches cancel out of.
 *
 * A case may name an input maker: a batch's inputs are then made before the batch is timed (one
 * per call, never reused), so what a case pays for its input's making is left out of its time.
 */
/** `[name, run]`, or `[name, run, input]`: `run(input())` with `input()` made untimed. */
export type Case = readonly [string, () => unknown] | readonly [string, (input: never) => unknown, () => unknown];

export interface InterleavedRow {
  readonly name: string;
  /** per call, in nanoseconds */
  readonly median: number;
  readonly q1: number;
  /** median over rounds of (this case / the first case), timed in the same round */
  readonly ratio: number;
}

const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** Times `cases` in `rounds` rounds of `batch` calls each (after `warm` untimed rounds). */
export function interleaved(cases: readonly Case[], rounds = 200, batch = 100, warm = 20): InterleavedRow[] {
  const times = cases.map(() => [] as number[]);
  const ratios = cases.map(() => [] as number[]);
  const round = new Float64Array(cases.length);
  const inputs = new Array<unknown>(batch);
  for (let r = 0; r < warm + rounds; r++) {
    for (let k = 0; k < cases.length; k++) {
      const c = (k + r) % cases.length; // rotate, so no case always runs first
      const [, f, input] = cases[c]! as readonly [string, (input?: unknown) => unknown, (() => unknown)?];
      if (input !== undefined) for (let i = 0; i < batch; i++) inputs[i] = input();
      const t0 = performance.now();
      if (input === undefined) for (let i = 0; i < batch; i++) f();
      else for (let i = 0; i < batch; i++) f(inputs[i]);
      round[c] = ((performance.now() - t0) * 1e6) / batch;
    }
    if (r < warm) continue;
    for (let c = 0; c < cases.length; c++) {
      times[c]!.push(round[c]!);
      ratios[c]!.push(round[c]! / round[0]!);
    }
  }
  return cases.map(([name], c) => {
    const t = times[c]!.sort((a, b) => a - b);
    return {
      name,
      median: quantile(t, 0.5),
      q1: quantile(t, 0.25),
      ratio: quantile(
        ratios[c]!.sort((a, b) => a - b),
        0.5,
      ),
    };
  });
}

/** The rows as a table: median and q1 per call (µs), and the in-round ratio to the first row. */
export function printInterleaved(rows: readonly InterleavedRow[], title: string): void {
  console.log(`\n${title}\n  median µs    q1 µs   ratio to row 1 (median of per-round ratios)`);
  for (const r of rows) {
    console.log(
      `${(r.median / 1000).toFixed(2).padStart(11)} ${(r.q1 / 1000).toFixed(2).padStart(8)} ${r.ratio.toFixed(2).padStart(8)}x  ${r.name}`,
    );
  }
}
