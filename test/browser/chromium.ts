/**
 * Where the browser suites find Chromium, so `npm install && npm test` needs no system setup:
 * `CHROMIUM_PATH`, then the usual system installs, then the headless build shipped inside the npm
 * package `@sparticuz/chromium` (a devDependency; Linux x64), extracted once per package version
 * under the temp folder. When the binary cannot start because a system library is missing, the
 * error names the libraries (from the launch error and `ldd`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const SYSTEM_CHROMIUM: readonly string[] = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

/** What a headless run as root on a closed network needs (the background flags stop lookups of Google's hosts). */
export const HEADLESS_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface FoundChromium {
  readonly path: string;
  readonly source: 'CHROMIUM_PATH' | 'system' | 'package';
}

export interface FindOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly systemPaths?: readonly string[];
  readonly platform?: string;
  readonly arch?: string;
  /** the packaged binary's path (extracting it if needed) */
  readonly packaged?: () => Promise<string>;
}

export async function findChromium(o: FindOptions = {}): Promise<FoundChromium> {
  const env = o.env ?? process.env;
  if (env.CHROMIUM_PATH) {
    // a path the user named and that is wrong is an error, not a reason to pick another browser
    if (!existsSync(env.CHROMIUM_PATH)) throw new Error(`CHROMIUM_PATH=${env.CHROMIUM_PATH}: no such file`);
    return { path: env.CHROMIUM_PATH, source: 'CHROMIUM_PATH' };
  }
  const systemPaths = o.systemPaths ?? SYSTEM_CHROMIUM;
  for (const p of systemPaths) if (existsSync(p)) return { path: p, source: 'system' };
  const platform = o.platform ?? process.platform;
  const arch = o.arch ?? process.arch;
  if (platform !== 'linux' || arch !== 'x64') {
    throw new Error(
      `no Chromium found (tried ${systemPaths.join(', ')}); the packaged one (@sparticuz/chromium) is Linux x64 only: install Chromium or Chrome, or set CHROMIUM_PATH`,
    );
  }
  return { path: await (o.packaged ?? packagedChromium)(), source: 'package' };
}

/**
 * The binary inside @sparticuz/chromium, extracted to `<tmp>/attune-chromium-<version>/`. The
 * package always extracts to `os.tmpdir()` (chromium, its fonts and SwiftShader side by side),
 * and reuses whatever `<tmp>/chromium` holds, even a half-written file or another version's. So
 * it extracts into a fresh folder (TMPDIR pointed there while the package reads it, which it does
 * before its first await) and renames the folder into place: a folder that exists is complete.
 */
export async function packagedChromium(): Promise<string> {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(dirname(dirname(require.resolve('@sparticuz/chromium'))));
  const version = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  const root = tmpdir();
  const dir = join(root, `attune-chromium-${version}`);
  const bin = join(dir, 'chromium');
  if (existsSync(bin)) return bin;
  const { default: Chromium } = await import('@sparticuz/chromium');
  const work = mkdtempSync(join(root, 'attune-chromium-tmp-'));
  const saved = process.env.TMPDIR;
  let extracted: Promise<string>;
  process.env.TMPDIR = work;
  try {
    extracted = Chromium.executablePath();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  const path = await extracted;
  if (path !== join(work, 'chromium')) {
    rmSync(work, { recursive: true, force: true });
    return path; // a package version that extracts elsewhere: use its own answer
  }
  try {
    renameSync(work, dir);
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    if (!existsSync(bin)) throw err; // else another run finished first
  }
  return bin;
}

/** Debian packages of the libraries a Chromium build most often lacks on a bare machine. */
const DEBIAN_PACKAGES: Readonly<Record<string, string>> = {
  'libnss3.so': 'libnss3',
  'libnssutil3.so': 'libnss3',
  'libsmime3.so': 'libnss3',
  'libnspr4.so': 'libnspr4',
  'libplc4.so': 'libnspr4',
  'libplds4.so': 'libnspr4',
  'libexpat.so.1': 'libexpat1',
};

/** Library names from a loader error ("error while loading shared libraries: X: cannot open…") and `ldd`'s "X => not found" lines. */
export function missingLibraries(launchError: string, lddOutput = ''): string[] {
  const found = new Set<string>();
  for (const m of launchError.matchAll(/error while loading shared libraries: ([^\s:]+)/g)) found.add(m[1]!);
  for (const m of lddOutput.matchAll(/^\s*(\S+)\s+=>\s+not found/gm)) found.add(m[1]!);
  return [...found];
}

export function explainLaunchFailure(found: FoundChromium, err: unknown, lddOutput?: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const ldd = lddOutput ?? spawnSync('ldd', [found.path], { encoding: 'utf8' }).stdout ?? '';
  const libs = missingLibraries(message, ldd);
  const where = `Chromium at ${found.path} (${found.source === 'package' ? 'from the npm package @sparticuz/chromium' : found.source})`;
  if (libs.length > 0) {
    const pkgs = [...new Set(libs.map((l) => DEBIAN_PACKAGES[l]).filter(Boolean))];
    return `${where} cannot start: missing system ${libs.length === 1 ? 'library' : 'libraries'} ${libs.join(', ')}${
      pkgs.length > 0 ? ` (Debian/Ubuntu: apt-get install ${pkgs.join(' ')})` : ''
    }; or set CHROMIUM_PATH to another Chromium`;
  }
  return `${where} did not start (set CHROMIUM_PATH to use another): ${message.split('\n').slice(0, 6).join('\n')}`;
}

/** Headless Chromium for a browser suite, wherever it was found. */
export async function launchChromium(o: FindOptions = {}): Promise<Browser> {
  const found = await findChromium(o);
  try {
    return await chromium.launch({ executablePath: found.path, args: [...HEADLESS_ARGS] });
  } catch (err) {
    throw new Error(explainLaunchFailure(found, err));
  }
}
