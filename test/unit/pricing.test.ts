/** The one pricing path (src/core/bidding/pricing.ts `priceCampaign`), which the bidder and /v1/bid-adjust both price with. */
import { describe, expect, it } from 'vitest';
import type { Campaign } from '../../src/core/bidding/campaign.ts';
import { campaignVariant, priceCampaign, type Prediction } from '../../src/core/bidding/pricing.ts';
import { model } from '../../bench/micro/bid-fixtures.ts';

const CTR = model('ctr', ['a', '*'], -4, 1);
const CVR = model('cvr', ['b'], -3, 2);

function campaign(bid: Partial<Campaign['bid']>): Campaign {
  return {
    id: 'a',
    status: 'active',
    adomain: 'a.example',
    budget: { daily: 100 },
    pacing: 'even',
    bid: { goal: 'cpc', value: 2, minCpm: 0, maxCpm: 50, ...bid },
    targeting: {},
    creatives: [],
  };
}

/** Predictions of the models named, as a run would make them; `asked` lists the names asked for. */
function predictor(rates: Record<string, number>, asked: (string | undefined)[] = []) {
  return (name: string | undefined): Prediction | null => {
    asked.push(name);
    if (name === undefined || rates[name] === undefined) return null;
    return { rate: rates[name]!, model: name === 'cvr' ? CVR : CTR };
  };
}

describe('priceCampaign', () => {
  it('prices a cpm campaign at its CPM times the modifiers, asking no model', () => {
    const asked: (string | undefined)[] = [];
    const p = priceCampaign(campaign({ goal: 'cpm', value: 4, ctrModel: 'ctr' }), predictor({}, asked), 1.5);
    expect(p).toEqual({ ctr: null, cvr: null, source: 'model', value: 6, skip: null });
    expect(asked).toEqual([]);
  });

  it("prices cpc and cpa from the models' predictions, value × rates × 1000, capped at maxCpm", () => {
    const cpc = priceCampaign(campaign({ ctrModel: 'ctr' }), predictor({ ctr: 0.01 }), 1);
    expect(cpc).toMatchObject({ ctr: { rate: 0.01, model: CTR }, cvr: null, source: 'model', skip: null });
    expect(cpc.value).toBeCloseTo(20, 9);
    const cpa = priceCampaign(
      campaign({ goal: 'cpa', value: 100, ctrModel: 'ctr', cvrModel: 'cvr', maxCpm: 1000 }),
      predictor({ ctr: 0.02, cvr: 0.05 }),
      2,
    );
    expect(cpa.value).toBeCloseTo(100 * 0.02 * 0.05 * 1000 * 2, 9);
    expect(cpa.cvr).toEqual({ rate: 0.05, model: CVR });
    expect(priceCampaign(campaign({ value: 10, ctrModel: 'ctr' }), predictor({ ctr: 0.5 }), 1).value).toBe(50); // maxCpm
  });

  it("falls back to the campaign's default rates, and says a rate came from a default", () => {
    const p = priceCampaign(
      campaign({ goal: 'cpa', value: 100, ctrModel: 'ctr', cvrModel: 'gone', defaultCvr: 0.1, maxCpm: 1000 }),
      predictor({ ctr: 0.02 }),
      1,
    );
    expect(p).toMatchObject({ ctr: { rate: 0.02, model: CTR }, cvr: { rate: 0.1, model: null }, source: 'default', skip: null });
    expect(p.value).toBeCloseTo(200, 9);
  });

  it('does not price without a rate its goal needs, but still asks for every rate the goal uses', () => {
    const asked: (string | undefined)[] = [];
    const p = priceCampaign(campaign({ goal: 'cpa', ctrModel: 'gone', cvrModel: 'cvr' }), predictor({ cvr: 0.1 }, asked), 1);
    expect(p).toMatchObject({ ctr: null, cvr: { rate: 0.1 }, value: null, skip: 'noCtrModel' });
    expect(asked).toEqual(['gone', 'cvr']);
    expect(priceCampaign(campaign({ goal: 'cpa', ctrModel: 'ctr' }), predictor({ ctr: 0.1 }), 1).skip).toBe('noCvrModel');
    expect(priceCampaign(campaign({}), predictor({}), 1).skip).toBe('noCtrModel'); // no model named, no default
  });

  it('refuses dust and nonsense: under minCpm, zero, or NaN from a broken model', () => {
    expect(priceCampaign(campaign({ ctrModel: 'ctr', minCpm: 1 }), predictor({ ctr: 0.0001 }), 1)).toMatchObject({
      value: null,
      skip: 'belowMin',
    });
    expect(priceCampaign(campaign({ goal: 'cpm', value: 4 }), predictor({}), 0).skip).toBe('belowMin');
    expect(priceCampaign(campaign({ ctrModel: 'ctr' }), predictor({ ctr: Number.NaN }), 1).skip).toBe('belowMin');
  });

  it("reads a rate model's variant for the campaign, else its shared `*` one, else its first", () => {
    expect(campaignVariant(CTR, 'a')).toBe(0);
    expect(campaignVariant(CTR, 'other')).toBe(1);
    expect(campaignVariant(CVR, 'other')).toBe(0);
  });
});
