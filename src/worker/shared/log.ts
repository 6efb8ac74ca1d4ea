/**
 * The Worker's log: one JSON object per line, `msg` first, then the fields (Workers Logs and
 * `wrangler tail` index them). `log.warn('model fallback', { model, reason })`.
 */
export type LogFields = Readonly<Record<string, unknown>>;

const line = (msg: string, fields: LogFields | undefined): string => JSON.stringify(fields === undefined ? { msg } : { msg, ...fields });

export const log = {
  info: (msg: string, fields?: LogFields): void => console.log(line(msg, fields)),
  warn: (msg: string, fields?: LogFields): void => console.warn(line(msg, fields)),
  error: (msg: string, fields?: LogFields): void => console.error(line(msg, fields)),
};

/** How often one repeated warning is written per isolate. */
export const REPEAT_WINDOW_MS = 60_000;
/** Distinct repeated warnings tracked per isolate (callers name models, so the keys are bounded). */
const REPEAT_KEYS = 1024;
const repeats = new Map<string, { at: number; held: number }>();

/**
 * A warning that repeats on every request while its cause lasts (a page naming a deleted model
 * gets a fallback on each view): the first is written, the same one (same message and fields)
 * again only once `REPEAT_WINDOW_MS` has passed in this isolate, with `repeated`: how many were
 * held back since the last line. One line a minute says as much as thousands, and costs none of
 * the log volume.
 */
export function warnRepeating(msg: string, fields: LogFields, now = Date.now()): void {
  const key = line(msg, fields);
  const seen = repeats.get(key);
  if (seen !== undefined && now - seen.at < REPEAT_WINDOW_MS) {
    seen.held++;
    return;
  }
  if (seen === undefined && repeats.size >= REPEAT_KEYS) repeats.clear();
  repeats.set(key, { at: now, held: 0 });
  log.warn(msg, seen !== undefined && seen.held > 0 ? { ...fields, repeated: seen.held } : fields);
}

/** Forgets the repeated warnings (tests: each starts with none said). */
export function clearRepeatedWarnings(): void {
  repeats.clear();
}
