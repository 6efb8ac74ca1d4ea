/**
 * docs/bidding.md against the code: its no-bid reasons are the bidder's (skip-reasons.ts), and its
 * complete campaign example passes the admin API's checks and has every field the table explains.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { SKIP_REASONS } from '../../src/core/bidding/skip-reasons.ts';
import { Campaign, campaignProblem } from '../../src/worker/bidding/bidding-schemas.ts';

const doc = readFileSync(new URL('../../docs/bidding.md', import.meta.url), 'utf8');
const section = (title: string) => doc.slice(doc.indexOf(`## ${title}\n`), doc.indexOf('\n## ', doc.indexOf(`## ${title}\n`) + 3));

/** The leaf fields of a campaign: nested objects by dot, arrays of objects as `[]`; maps (modifiers) and lists are leaves. */
function leaves(x: unknown, at = ''): string[] {
  if (Array.isArray(x)) return x.length > 0 && typeof x[0] === 'object' ? [...new Set(x.flatMap((e) => leaves(e, `${at}[]`)))] : [at];
  if (x === null || typeof x !== 'object' || at.startsWith('modifiers.')) return [at];
  return Object.entries(x).flatMap(([k, v]) => leaves(v, at ? `${at}.${k}` : k));
}

describe('docs/bidding.md', () => {
  it('lists every no-bid reason the bidder gives, and no other', () => {
    const rows = [...section('Why no bid').matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    expect(rows).toEqual(Object.keys(SKIP_REASONS));
  });

  it('shows a complete campaign that the admin API takes, and explains every field of it', () => {
    const part = section('Campaigns: every field');
    const example = JSON.parse(
      /```json\n([\s\S]*?)```/.exec(part)![1]!.replace('…<ClickThrough>', '<ClickThrough>').replace('</ClickThrough>…', '</ClickThrough>'),
    );
    const parsed = z.safeParse(Campaign, example);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(campaignProblem(parsed.data!)).toBeNull();
    const explained: string[] = [];
    for (const m of part.matchAll(/^\| ((?:`[^`]+`(?:, )?)+) \|/gm)) {
      let last = '';
      for (const name of m[1]!.split(', ').map((n) => n.slice(1, -1))) {
        const full = name.startsWith('.') ? last.slice(0, last.lastIndexOf('.')) + name : name;
        explained.push(full);
        last = full;
      }
    }
    for (const field of leaves(example)) expect(explained, field).toContain(field);
    for (const key of Object.keys(Campaign.shape))
      expect(
        explained.some((e) => e === key || e.startsWith(`${key}.`) || e.startsWith(`${key}[]`)),
        key,
      ).toBe(true);
  });
});
