// Setup of the workerd suite (vitest.config.ts): the Worker's log is captured per test
// (log-capture.ts) and printed only when the test fails.
import { beforeEach, onTestFailed, vi } from 'vitest';
import { captureLog, capturedText } from './log-capture.ts';

beforeEach(() => {
  captureLog();
  onTestFailed(() => {
    const text = capturedText();
    if (text) console.error(`the Worker's log during this test:\n${text}`);
  });
  return () => vi.restoreAllMocks();
});
