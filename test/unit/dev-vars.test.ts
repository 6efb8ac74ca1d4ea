/** `.dev.vars` for `npm start`: missing secrets are added, present ones are never rewritten. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addMissingSecrets, LOCAL_SECRETS, parseDevVars } from '../../scripts/dev-vars.ts';

const dirs: string[] = [];
const fileIn = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'attune-devvars-'));
  dirs.push(d);
  return path.join(d, '.dev.vars');
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('.dev.vars', () => {
  it('reads dotenv lines: comments, export, quotes, inline comments, empty values', () => {
    const vars = parseDevVars('# c\nA=1\nexport B = two \nC="x # y"\nD=\'q\'\nE=v # note\nF=\n  \nnot a line\n');
    expect([...vars]).toEqual([
      ['A', '1'],
      ['B', 'two'],
      ['C', 'x # y'],
      ['D', 'q'],
      ['E', 'v'],
      ['F', ''],
    ]);
  });

  it('creates the file with every local secret, the demo exchange among them', () => {
    const file = fileIn();
    expect(addMissingSecrets(file)).toEqual(LOCAL_SECRETS.map(([n]) => n));
    const vars = parseDevVars(readFileSync(file, 'utf8'));
    expect(vars.get('EXCHANGE_KEYS')).toMatch(/^demo:[\w-]{32}$/);
    expect(vars.get('SIGNING_SECRET')!.length).toBeGreaterThanOrEqual(32);
    expect(statSync(file).mode & 0o077).toBe(0); // secrets: the owner's alone
  });

  it('adds only what is missing, after the existing text, which stays byte for byte (even an empty value)', () => {
    const file = fileIn();
    const before = '# mine\nSIGNING_SECRET="keep me"\nEXCHANGE_KEYS=\r\nexport ADMIN_TOKEN=also-mine';
    writeFileSync(file, before);
    expect(addMissingSecrets(file)).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe(before);
    // a checkout from before the rename: its PROFILE_SECRET is the signing secret, and no second one is added
    const partial = 'PROFILE_SECRET=keep-me\nADMIN_TOKEN=mine';
    writeFileSync(file, partial);
    expect(addMissingSecrets(file)).toEqual(['EXCHANGE_KEYS']);
    const after = readFileSync(file, 'utf8');
    expect(after.startsWith(`${partial}\n`)).toBe(true);
    expect(after.slice(partial.length + 1)).toMatch(/^EXCHANGE_KEYS=demo:[\w-]{32}\n$/);
    expect(addMissingSecrets(file)).toEqual([]); // a second start adds nothing
    expect(readFileSync(file, 'utf8')).toBe(after);
  });
});
