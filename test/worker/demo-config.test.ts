/** The demo `npm start` seeds must load: page rules that fail validation would be ignored. */
import { describe, expect, it } from 'vitest';
import demoRules from '../../demo/page-rules.json';
import lumenRecs from '../../models/lumen-recs.json';
import recs from '../../models/recs.json';
import demoHero from '../../demo/experiments/demo-hero.json';
import { parseExperimentConfig } from '../../src/worker/experiments/schema.ts';
import { parsePageRules } from '../../src/worker/proxy/page-rules.ts';

const models: Record<string, { name: string; items: { id: string }[] }> = { recs, 'lumen-recs': lumenRecs };

describe('demo configuration', () => {
  const rules = parsePageRules(demoRules);

  it('demo/page-rules.json is valid page rules (selectors checked by HTMLRewriter)', () => {
    expect(rules).not.toBeNull();
  });

  it('every recommendation slot names a model in models/, and every item it can rank is in the catalog', () => {
    const slots = rules!.pages.flatMap((p) => p.slots).filter((s) => s.recommend);
    expect(slots.length).toBeGreaterThan(0);
    for (const slot of slots) {
      const model = models[slot.recommend!.model ?? 'recs'];
      expect(model, slot.id).toBeDefined();
      for (const { id } of model!.items) expect(rules!.catalog?.[id], `${model!.name}: ${id}`).toBeDefined();
    }
  });

  it("the landing page's hero is the demo's bandit test, a valid config with three headline arms", () => {
    const hero = rules!.pages.find((p) => p.path === '/')!.slots.find((s) => s.id === 'hero')!;
    expect(hero.experiment).toBe('demo-hero');
    const config = parseExperimentConfig(demoHero);
    expect(config.key).toBe('demo-hero');
    expect(config.arms.map((a) => a.payload.type)).toEqual(['text', 'text', 'text']);
  });
});
