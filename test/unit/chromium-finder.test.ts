// The browser suites' Chromium finder (test/browser/chromium.ts): the order it looks in, and
// the error that names missing system libraries. The packaged binary itself is started by
// test/browser/chromium.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { explainLaunchFailure, findChromium, missingLibraries } from '../browser/chromium.ts';

const dir = mkdtempSync(join(tmpdir(), 'attune-chromium-find-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fake = (name: string) => {
  const p = join(dir, name);
  writeFileSync(p, '');
  return p;
};
const neverPackaged = async () => {
  throw new Error('the packaged binary was not wanted here');
};

describe('finding Chromium', () => {
  it('takes CHROMIUM_PATH first, before any system install', async () => {
    const mine = fake('mine');
    const system = fake('system');
    expect(await findChromium({ env: { CHROMIUM_PATH: mine }, systemPaths: [system], packaged: neverPackaged })).toEqual({
      path: mine,
      source: 'CHROMIUM_PATH',
    });
  });

  it('refuses a CHROMIUM_PATH that does not exist instead of quietly using another browser', async () => {
    await expect(findChromium({ env: { CHROMIUM_PATH: join(dir, 'nope') }, systemPaths: [fake('s2')] })).rejects.toThrow(
      /CHROMIUM_PATH=.*nope: no such file/,
    );
  });

  it('then the first system path that exists', async () => {
    const second = fake('chrome');
    expect(await findChromium({ env: {}, systemPaths: [join(dir, 'absent'), second], packaged: neverPackaged })).toEqual({
      path: second,
      source: 'system',
    });
  });

  it('then the binary inside @sparticuz/chromium on Linux x64', async () => {
    const found = await findChromium({ env: {}, systemPaths: [], platform: 'linux', arch: 'x64', packaged: async () => '/tmp/x/chromium' });
    expect(found).toEqual({ path: '/tmp/x/chromium', source: 'package' });
  });

  it('elsewhere, says what it tried and what to do', async () => {
    await expect(findChromium({ env: {}, systemPaths: ['/no/chrome'], platform: 'darwin', arch: 'arm64' })).rejects.toThrow(
      /no Chromium found \(tried \/no\/chrome\).*set CHROMIUM_PATH/,
    );
  });
});

describe('a Chromium that cannot start', () => {
  it('names the missing libraries from the loader error and from ldd, with the Debian packages', () => {
    const err = new Error(
      'browserType.launch: Failed to launch\n/tmp/chromium: error while loading shared libraries: libnss3.so: cannot open shared object file: No such file or directory',
    );
    const ldd =
      '\tlinux-vdso.so.1 (0x0)\n\tlibnss3.so => not found\n\tlibnspr4.so => not found\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x0)\n';
    expect(missingLibraries(err.message, ldd)).toEqual(['libnss3.so', 'libnspr4.so']);
    const msg = explainLaunchFailure({ path: '/tmp/chromium', source: 'package' }, err, ldd);
    expect(msg).toBe(
      'Chromium at /tmp/chromium (from the npm package @sparticuz/chromium) cannot start: missing system libraries libnss3.so, libnspr4.so (Debian/Ubuntu: apt-get install libnss3 libnspr4); or set CHROMIUM_PATH to another Chromium',
    );
  });

  it('otherwise passes the launch error on, short', () => {
    const msg = explainLaunchFailure({ path: '/usr/bin/chromium', source: 'system' }, new Error('boom\n1\n2\n3\n4\n5\n6\n7'), '');
    expect(msg).toBe('Chromium at /usr/bin/chromium (system) did not start (set CHROMIUM_PATH to use another): boom\n1\n2\n3\n4\n5');
  });
});
