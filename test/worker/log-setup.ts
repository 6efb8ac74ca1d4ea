// Setup of the workerd suite (vitest.config.ts): the Worker's log is captured per test
// (log-capture.ts) and printed only when the test fails.
import { beforeEach, onTestFailed, vi } from 'vitest';
import { captureLog, capturedText } from './log-capture.ts';

beforeEach((ctx) => {
  captureLog();
  onTestFailed(() => {
    if (ctx.task.fails) return; // an it.fails test that failed as it should passes: nothing to show
    const text = capturedText();
    if (text) console.error(`the Worker's log during this test:\n${text}`);
  });
  return () => vi.restoreAllMocks();
});
