/**
 * The Worker's log during a test (src/worker/shared/log.ts), captured instead of printed: a
 * passing run stays quiet, so a line that matters is not lost among the ones tests provoke on
 * purpose. A test that provokes a line asserts on it (`logged`); a failing test prints what it
 * captured (log-setup.ts), where it helps.
 */
import { vi } from 'vitest';
import { log, type LogFields } from '../../src/worker/shared/log.ts';

export type Level = 'info' | 'warn' | 'error';
export interface LogLine {
  readonly level: Level;
  readonly msg: string;
  readonly fields: LogFields;
}

const lines: LogLine[] = [];

const CONSOLE = { info: 'log', warn: 'warn', error: 'error' } as const;

/**
 * Routes the logger into the capture; each test starts with an empty one. A test that spies on
 * the console itself (it reads the printed lines) still gets each line, as the logger prints it.
 */
export function captureLog(): void {
  lines.length = 0;
  for (const level of ['info', 'warn', 'error'] as const) {
    vi.spyOn(log, level).mockImplementation((msg: string, fields?: LogFields) => {
      lines.push({ level, msg, fields: fields ?? {} });
      const print = console[CONSOLE[level]];
      if (vi.isMockFunction(print)) print(JSON.stringify(fields === undefined ? { msg } : { msg, ...fields }));
    });
  }
}

/** What the Worker logged so far in this test, optionally only lines with this message. */
export function logged(msg?: string): LogLine[] {
  return msg === undefined ? [...lines] : lines.filter((l) => l.msg === msg);
}

/** The captured lines as the logger would have printed them. */
export function capturedText(): string {
  return lines.map((l) => `${l.level}: ${JSON.stringify({ msg: l.msg, ...l.fields })}`).join('\n');
}

/** The lines of one level as `console` calls (`[printed line]`), for tests that read what was printed. */
export function consoleCalls(level: Level): [string][] {
  return lines.filter((l) => l.level === level).map((l) => [JSON.stringify({ msg: l.msg, ...l.fields })]);
}
