/**
 * A one-line progress bar on stderr when it is a terminal; silent otherwise (CI, pipes, tests).
 * The caller says how far it is and what it has done (`records(n, started)` gives "N records,
 * R/s"); the bar adds the time left, from the pace so far.
 */
export interface Progress {
  update(fraction: number, detail: string): void;
  done(): void;
}

export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** `1.2 s`, `3 min 05 s`, `2 h 10 min`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Time left at this pace, once there is enough of it to say (1 % done or 1 s in). */
export function eta(fraction: number, elapsedMs: number): string {
  if (!(fraction > 0.01) || elapsedMs < 1000) return '';
  if (fraction >= 1) return 'ETA 0 s';
  return `ETA ${formatDuration((elapsedMs * (1 - fraction)) / fraction)}`;
}

/** "N records, R/s" since `startedMs` (a `performance.now()` reading). */
export function records(n: number, startedMs: number, now = performance.now()): string {
  const seconds = (now - startedMs) / 1000;
  return `${n.toLocaleString('en-US')} records${seconds > 0 ? `, ${Math.round(n / seconds).toLocaleString('en-US')}/s` : ''}`;
}

export function progressBar(label: string, stream: ProgressStream = process.stderr, now: () => number = () => performance.now()): Progress {
  if (!stream.isTTY) return { update() {}, done() {} };
  const started = now();
  let last = -Infinity;
  const width = 28;
  return {
    update(fraction, detail) {
      const t = now();
      if (t - last < 100) return; // at most 10 redraws a second
      last = t;
      const f = Math.max(0, Math.min(1, fraction));
      const full = Math.round(f * width);
      const left = eta(f, t - started);
      stream.write(
        `\r${label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(f * 100).toFixed(0).padStart(3)}% ${detail}${left ? `, ${left}` : ''}\x1b[K`,
      );
    },
    done() {
      stream.write('\r\x1b[K');
    },
  };
}
