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
