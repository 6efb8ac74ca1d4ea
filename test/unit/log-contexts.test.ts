// The feature dictionary of aggregated training: each distinct context's features, computed once.
import { describe, expect, it } from 'vitest';
import { createFeatureVector, extractFeatures } from '../../src/core/features.ts';
import { contextFeatures } from '../../src/train/log/contexts.ts';
import { lit, openDuck } from '../../src/train/log/duckdb.ts';
import { loggedContextOf, mulberry32, randomContext } from '../../src/train/synthetic-log.ts';

describe('context features', () => {
  it("gives each context id the extractor's features of its own text, across batches, and marks unreadable ones", async () => {
    const r = mulberry32(8);
    const contexts: (string | null)[] = Array.from({ length: 2500 }, (_, i) =>
      JSON.stringify(loggedContextOf(randomContext(r), i % 24, i % 7)),
    );
    contexts[7] = null; // a decision logged without a context
    contexts[1500] = '{"attrs":{}}'; // another writer's record: the extractor cannot read it
    contexts[2001] = JSON.stringify({ ...JSON.parse(contexts[2001]!), segments: ['a', 'b'], attrs: { z: 1, a: 'x' } });
    const duck = await openDuck();
    try {
      await duck.con.run('CREATE TABLE t (cid INTEGER, context VARCHAR)');
      for (let i = 0; i < contexts.length; i += 500)
        await duck.con.run(
          `INSERT INTO t VALUES ${contexts
            .slice(i, i + 500)
            .map((c, k) => `(${i + k}, ${c === null ? 'NULL' : lit(c)})`)
            .join(', ')}`,
        );
      const f = await contextFeatures(duck.con, 'SELECT cid, context FROM t', contexts.length);
      expect(f.unreadable).toBe(2);
      expect([f.start[7], f.start[1500]]).toEqual([-1, -1]);
      const fv = createFeatureVector();
      for (let cid = 0; cid < contexts.length; cid++) {
        if (cid === 7 || cid === 1500) continue;
        extractFeatures(JSON.parse(contexts[cid]!), fv);
        expect([...f.pool.subarray(f.start[cid]!, f.start[cid]! + f.len[cid]!)]).toEqual([...fv.hashes.subarray(0, fv.length)]);
      }
    } finally {
      duck.close();
    }
  }, 60_000);
});
