/**
 * Local hour and weekday of an instant in an IANA time zone.
 *
 * Intl formatting costs microseconds, so each zone's UTC offset is computed once and reused
 * until the top of the next UTC hour (offsets change on the hour or half hour at most, at DST
 * transitions). Unknown zones fall back to UTC.
 */

export interface LocalTime {
  /** 0–23 */
  readonly hour: number;
  /** 0 = Sunday … 6 = Saturday */
  readonly weekday: number;
}

const HOUR_MS = 3_600_000;
const formatters = new Map<string, Intl.DateTimeFormat | null>();
const offsets = new Map<string, { until: number; offsetMs: number }>();

function formatterFor(timeZone: string): Intl.DateTimeFormat | null {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
      });
    } catch {
      f = null; // RangeError: not a zone this runtime knows
    }
    if (formatters.size > 1000) formatters.clear();
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * Loads ICU's time-zone data, which the first `Intl.DateTimeFormat` with a zone pays for (later
 * zones cost far less). The Worker does not call this at start-up: the first request that names
 * a zone loads it, so isolates whose requests never do (bids, events, UTC) never pay for it.
 * Benches call it to time that load apart (bench:cold).
 */
export function warmTimeZones(): void {
  formatterFor('UTC')?.formatToParts(0);
}

function offsetMs(timeZone: string, now: number): number {
  const cached = offsets.get(timeZone);
  if (cached && now < cached.until && now >= cached.until - HOUR_MS) return cached.offsetMs;
  const f = formatterFor(timeZone);
  let off = 0;
  if (f) {
    const p: Record<string, number> = {};
    for (const part of f.formatToParts(now)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!);
    off = asUtc - Math.floor(now / 60_000) * 60_000;
  }
  if (offsets.size > 1000) offsets.clear();
  offsets.set(timeZone, { until: Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS, offsetMs: off });
  return off;
}

const DAY_MS = 86_400_000;

export function localTime(now: number, timeZone: string): LocalTime {
  const local = now + (timeZone && timeZone !== 'UTC' ? offsetMs(timeZone, now) : 0);
  // plain arithmetic, not a Date: 1970-01-01 was a Thursday (4)
  const days = Math.floor(local / DAY_MS);
  return { hour: Math.floor((local - days * DAY_MS) / HOUR_MS), weekday: (((days + 4) % 7) + 7) % 7 };
}
