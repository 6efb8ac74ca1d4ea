/**
 * A set of the most recent keys, bounded in memory: for dropping repeats from a log too big to
 * remember whole (a JS Set holds at most 2^24 entries, and ~40 bytes each). Keys are 53-bit
 * integers (hashes of ids). Two open-addressing tables of `2^bits` slots: keys go into the
 * current one until it is half full, when it becomes the previous one and the older one is
 * emptied. A repeat is caught if its key came within the last 2^(bits − 1) to 2^bits keys
 * added; the repeats of a log (retries, replays) are rarely further apart than that.
 */
import { murmur3 } from '../core/murmur3.ts';

/**
 * 53 bits of two murmur3 hashes of `id`. The second hashes a longer input: the same input under
 * two seeds collides together far too often for short ids (`d229466`, `d488447`).
 */
export const idKey = (id: string): number => murmur3(id, 1) * 2 ** 21 + (murmur3(`${id}\u0000`, 0x5bd1e995) >>> 11);

export interface RecentKeys {
  /** true if `key` was added recently; otherwise adds it and returns false */
  seen(key: number): boolean;
}

export function recentKeys(bits = 22): RecentKeys {
  if (!(Number.isInteger(bits) && bits >= 2 && bits <= 30)) throw new RangeError('recentKeys: bits must be an integer in 2..30');
  const size = 2 ** bits;
  const mask = size - 1;
  let current = new Float64Array(size); // key + 1; 0 = empty
  let previous = new Float64Array(size);
  let count = 0;
  const slot = (key: number) => (key % size) & mask;
  const find = (table: Float64Array, stored: number): number => {
    let at = slot(stored);
    while (table[at] !== 0 && table[at] !== stored) at = (at + 1) & mask;
    return at;
  };
  return {
    seen(key: number): boolean {
      const stored = key + 1;
      const at = find(current, stored);
      if (current[at] === stored || previous[find(previous, stored)] === stored) return true;
      current[at] = stored;
      if (++count >= size >>> 1) {
        const emptied = previous;
        emptied.fill(0);
        previous = current;
        current = emptied;
        count = 0;
      }
      return false;
    },
  };
}
