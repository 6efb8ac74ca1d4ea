// The Node tools open wrangler's local KV and R2 without false warnings: no "internal Durable
// Objects … will not work in local development", no "no such Durable Object class is exported"
// (src/train/platform-proxy.ts), and what they write is where `wrangler dev` reads it.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localPlatform } from '../../src/train/platform-proxy.ts';

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('the Node tools on local state', () => {
  it('models:publish prints what it published and no Durable Object warning; the KV it wrote is the local state', async () => {
    const persist = await mkdtemp(join(tmpdir(), 'attune-quiet-'));
    try {
      const { code, out } = await run(['src/train/publish.ts', '--persist', persist, '--only', 'hero-headline']);
      expect(code).toBe(0);
      expect(out).not.toMatch(/Durable Object/i);
      expect(out).not.toMatch(/WARNING/);
      expect(out.trim().split('\n')).toEqual([expect.stringMatching(/^active {2}hero-headline@h[0-9a-f]+ \(\d+ bytes\)$/)]);
      const proxy = await localPlatform<{ KV: { get(k: string): Promise<string | null> } }>(persist);
      try {
        expect(await proxy.env.KV.get('manifest/hero-headline')).toContain('"active"');
      } finally {
        await proxy.dispose();
      }
    } finally {
      await rm(persist, { recursive: true, force: true });
    }
  }, 120_000);

  it('localPlatform binds the KV namespaces and R2 buckets only', async () => {
    const persist = await mkdtemp(join(tmpdir(), 'attune-quiet-'));
    const platform = await localPlatform<Record<string, unknown>>(persist);
    try {
      expect(Object.keys(platform.env).sort()).toEqual(['KV', 'LOG']);
    } finally {
      await platform.dispose();
      await rm(persist, { recursive: true, force: true });
    }
  }, 120_000);
});
