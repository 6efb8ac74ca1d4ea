/** Waiting on work with a time limit: the bid's tmax, a notice's answer to the exchange, a ledger read. */

export const LATE: unique symbol = Symbol('late');

/**
 * `work`, or LATE if `ms` pass first (at once when `ms` ≤ 0). The work itself goes on; callers
 * that need it to finish hand it to `waitUntil`.
 */
export async function within<T>(work: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), Math.max(0, ms));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}
