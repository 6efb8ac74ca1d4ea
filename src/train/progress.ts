/** A one-line progress bar on stderr when it is a terminal; silent otherwise (CI, pipes). */
export interface Progress {
  update(fraction: number, detail: string): void;
  done(): void;
}

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update() {}, done() {} };
  let last = 0;
  const width = 28;
  return {
    update(fraction, detail) {
      const now = Date.now();
      if (now - last < 100) return; // at most 10 redraws a second
      last = now;
      const f = Math.max(0, Math.min(1, fraction));
      const full = Math.round(f * width);
      stream.write(`\r${label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(f * 100).toFixed(0).padStart(3)}% ${detail}\x1b[K`);
    },
    done() {
      stream.write('\r\x1b[K');
    },
  };
}
