// The whole loop through the real local queue: /v1/decide exposures and /v1/events clicks go to
// the log queue, the Worker's queue() consumer writes R2 and forwards them to the experiment's
// Durable Object, whose next snapshot moves what /v1/decide serves.
import { describe, expect, it } from 'vitest';
import { admin, createAndLaunch, decide } from './experiment-helpers.ts';
import { postJson } from './helpers.ts';

describe('decide → events → queue consumer → aggregator → snapshot → decide', () => {
  it('clicks sent to /v1/events move the served allocation', async () => {
    await createAndLaunch('pipe');
    const clicks: unknown[] = [];
    let exposures = 0;
    for (let i = 0; i < 40; i++) {
      const visitorId = `pipe-visitor-${String(i).padStart(3, '0')}`;
      const d = (await decide('pipe', visitorId)).body.decisions[0]!;
      expect(d.experiment.exposed).toBe(true);
      exposures++;
      if (d.variant === 'b')
        clicks.push({
          id: `${visitorId}-click`,
          name: 'click',
          decisionId: d.decisionId,
          visitorId,
          experiment: 'pipe',
          slot: 'hero',
          variant: 'b',
        });
    }
    expect(clicks.length).toBeGreaterThan(8);
    const t0 = Date.now();
    const sent = await postJson('/v1/events', clicks);
    expect(((await sent.json()) as { accepted: number }).accepted).toBe(clicks.length);

    let served: Record<string, any> | null = null;
    let results: Record<string, any> = {};
    for (let i = 0; Date.now() - t0 < 15_000; i++) {
      results = (await (await admin('/admin/experiments/pipe/results', undefined, 'GET')).json()) as Record<string, any>;
      const d = (await decide('pipe', `pipe-fresh-${i}`)).body.decisions[0]!;
      if (d.variant === 'b' && d.propensity > 0.9) {
        served = d;
        break;
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    console.log(`events → served allocation in ${Date.now() - t0} ms`);
    // the probe decisions for fresh visitors are exposures too
    expect(results.arms.reduce((s: number, a: { impressions: number }) => s + a.impressions, 0)).toBeGreaterThanOrEqual(exposures);
    expect(results.arms[1].conversions).toBe(clicks.length);
    expect(results.arms[0].conversions).toBe(0);
    expect(served, 'allocation never moved to b').not.toBeNull();
  }, 40_000);
});
