/**
 * The model kinds the Worker reads, each as the adapter `resolveModel` decodes it with: one
 * definition per kind, shared by every feature that scores with it (the linear scorer serves
 * content slots, raw scores, bids and bid adjustments alike).
 */
import { snapshotFromEnvelope, type BanditSnapshot } from '../../core/bandits/snapshot.ts';
import { shadingFromEnvelope, type ShadingModel } from '../../core/bidding/shading-model.ts';
import { linearFromEnvelope, type LinearModel } from '../../core/linear-model.ts';
import { itemKnnFromEnvelope, type ItemKnnModel } from '../../core/recs/itemknn-model.ts';
import type { ModelAdapter } from './model-store.ts';

export const LINEAR: ModelAdapter<LinearModel> = { kind: 'linear', adapt: linearFromEnvelope };
export const SHADING: ModelAdapter<ShadingModel> = { kind: 'shading', adapt: shadingFromEnvelope };
export const ITEMKNN: ModelAdapter<ItemKnnModel> = { kind: 'itemknn', adapt: itemKnnFromEnvelope };
export const BANDIT: ModelAdapter<BanditSnapshot> = { kind: 'bandit', adapt: snapshotFromEnvelope };
