/** Calendar days of the log, in UTC: what "the last day" means to the report and to `log:synth --anomaly`. */
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/**
 * The start of the last full UTC day of a log whose last decision is at `lastTs`: a day counts
 * as full when the log reaches its last hour. The report's default period is this day, and
 * `log:synth --anomaly` shifts this day, so the two agree on "the last day".
 */
export const lastFullDayStart = (lastTs: number): number => Math.floor((lastTs + HOUR) / DAY) * DAY - DAY;
