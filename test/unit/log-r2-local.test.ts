// --r2-local: the bucket `wrangler dev` keeps, read by the same DuckDB reader as a folder.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { logObjectKey } from '../../src/core/log-layout.ts';
import { logExamples } from '../../src/train/log/examples.ts';
import { openLog } from '../../src/train/log/open-log.ts';
import { platformPersist } from '../../src/train/storage.ts';

const T = Date.UTC(2026, 10, 1);
const JOIN = { labels: new Set(['click']), windowMs: 1_800_000, graceMs: 600_000, skewMs: 60_000 };

describe('the local R2 bucket', () => {
  it("reads the objects wrangler's local R2 holds, both layouts, and skips one that is not gzip", async () => {
    const persist = await mkdtemp(join(tmpdir(), 'attune-r2-'));
    const { getPlatformProxy } = await import('wrangler');
    const proxy = await getPlatformProxy<{ LOG: { put(k: string, v: Uint8Array | string): Promise<unknown> } }>({
      persist: platformPersist(persist),
    });
    const decision = (id: string, ts: number) =>
      JSON.stringify({ type: 'decision', v: 1, id, ts, kind: 'variant', slot: 'hero', action: 'a' });
    try {
      await proxy.env.LOG.put(logObjectKey(T, ['m1']), gzipSync(`${decision('d1', T + 1)}\n`));
      await proxy.env.LOG.put('log/dt=2026-11-01/hour=01/legacy.ndjson.gz', gzipSync(`${decision('d2', T + 3_600_001)}\n`));
      await proxy.env.LOG.put('log/dt=2026-11-01/hour=01/broken.ndjson.gz', 'not gzip');
      await proxy.env.LOG.put('models/not-the-log.ndjson.gz', gzipSync(`${decision('x', T)}\n`));
    } finally {
      await proxy.dispose();
    }
    const log = await openLog({ r2Local: true, persist });
    try {
      const ids: string[] = [];
      for await (const b of logExamples(log, JOIN)) ids.push(...b.map((e) => e.decision.id));
      expect(ids).toEqual(['d1', 'd2']);
      expect(log.skipped.map((s) => s.path.split('/').pop())).toEqual(['broken.ndjson.gz']);
    } finally {
      await log.close();
    }
  }, 120_000);
});
