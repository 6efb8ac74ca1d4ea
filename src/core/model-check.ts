/**
 * Whether a decoded envelope is a model its kind's loader will take: the very checks the
 * runtime makes when it loads one, run at publish time, so a model the Worker would refuse
 * (non-finite weights, missing sections, a bad policy) is refused before it is activated.
 */
import { snapshotFromEnvelope } from './bandits/snapshot.ts';
import { shadingFromEnvelope } from './bidding/shading-model.ts';
import { linearFromEnvelope } from './linear-model.ts';
import type { Envelope } from './model-format.ts';
import { itemKnnFromEnvelope } from './recs/itemknn-model.ts';

export function usableModel(env: Envelope): boolean {
  switch (env.kind) {
    case 'linear':
      return linearFromEnvelope(env).ok;
    case 'bandit':
      return snapshotFromEnvelope(env).ok;
    case 'itemknn':
      return itemKnnFromEnvelope(env).ok;
    case 'shading':
      return shadingFromEnvelope(env).ok;
    case 'bidder':
      return true; // reserved: no loader reads this kind yet
  }
}
