/**
 * Each unit test file gets a temporary directory of its own, set as TMPDIR (which `os.tmpdir()`
 * reads on every call, and which the CLIs these tests spawn inherit), and removed when the file's
 * tests are done: what the tests and their tools write to temporary files does not pile up in the
 * machine's /tmp run after run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'attune-unit-'));
process.env.TMPDIR = dir;

afterAll(() => rmSync(dir, { recursive: true, force: true, maxRetries: 3 }));
