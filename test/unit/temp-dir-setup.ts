/**
 * Each unit test file gets a temporary directory of its own, set as TMPDIR (which `os.tmpdir()`
 * reads on every call, and which the CLIs these tests spawn inherit), and removed when the file's
 * tests are done: what the tests and their tools write to temporary files does not pile up in the
 * machine's /tmp run after run. The machine's own temporary directory is remembered once per
 * process and TMPDIR put back after each file, so a process that runs several files (a pool
 * without isolation) makes each file's directory beside the others, not inside a removed one.
 * (A file whose tests are all skipped runs no hooks, and leaves its directory, empty.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const before = process.env.TMPDIR;
process.env.ATTUNE_TMP_BASE ??= tmpdir();
const dir = mkdtempSync(join(process.env.ATTUNE_TMP_BASE, 'attune-unit-'));
process.env.TMPDIR = dir;

afterAll(() => {
  if (before === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = before;
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});
