/**
 * The campaigns page's forms → a campaign (validated afterwards like any admin API body): the
 * create form's fields for one creative and the common settings, and the edit form's JSON.
 */
import { parseJson } from '../shared/body.ts';

const num = (s: string | undefined) => (s === undefined || s.trim() === '' ? undefined : Number(s));
const text = (s: string | undefined) => (s === undefined || s.trim() === '' ? undefined : s.trim());

/** The create form: one creative, a goal and value, a daily budget and its pacing. */
export function formToCampaign(form: Record<string, string>): unknown {
  const media = form.media || 'banner';
  return {
    id: text(form.id),
    status: form.status === 'paused' ? 'paused' : 'active',
    adomain: text(form.adomain),
    budget: { daily: num(form.daily) },
    pacing: form.pacing === 'even' ? 'even' : 'asap',
    bid: {
      goal: form.goal || 'cpm',
      value: num(form.value),
      ...(num(form.defaultCtr) !== undefined ? { defaultCtr: num(form.defaultCtr) } : {}),
      minCpm: num(form.minCpm) ?? 0,
      maxCpm: num(form.maxCpm),
    },
    targeting: { media: [media] },
    creatives: [
      {
        id: text(form.creativeId) ?? `${text(form.id) ?? 'creative'}-1`,
        media,
        ...(num(form.w) !== undefined ? { w: num(form.w) } : {}),
        ...(num(form.h) !== undefined ? { h: num(form.h) } : {}),
        ...(text(form.mime) !== undefined ? { mime: text(form.mime) } : {}),
        adm: form.adm ?? '',
        ...(text(form.clickUrl) !== undefined ? { clickUrl: text(form.clickUrl) } : {}),
      },
    ],
  };
}

/** The edit form: the campaign's whole JSON (a 400 naming `body` when it is not JSON). */
export const jsonToCampaign = (form: Record<string, string>): unknown => parseJson(form.json ?? '');
