/**
 * URLs admins write that visitors are sent to: a campaign creative's `clickUrl` (the click
 * tracker redirects there) must be an absolute http(s) URL with a host, and an experiment arm's
 * `url` payload must be http(s), never `javascript:` or `data:`. Checked on writes only: what is
 * already stored keeps working.
 */
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { experimentKey } from '../../src/core/store-keys.ts';
import { newExperiment } from '../../src/core/experiments/experiment.ts';
import { parseExperimentConfig } from '../../src/worker/experiments/schema.ts';
import { campaign } from './bidding-helpers.ts';
import { admin, config } from './experiment-helpers.ts';
import { ADMIN, fetchWorker, resetAll } from './helpers.ts';

beforeEach(resetAll);

const put = (path: string, body: unknown) =>
  fetchWorker(path, { method: 'PUT', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const fieldOf = async (res: Response) => ((await res.json()) as { error: { field: string } }).error.field;

describe('campaign clickUrl on admin writes', () => {
  it.each(['http://[x', 'https://shop.example:99999/'])('%s: 400 naming creatives[i].clickUrl', async (clickUrl) => {
    const base = campaign({ id: 'cu' });
    const c = { ...base, creatives: [base.creatives[0]!, { ...base.creatives[1]!, clickUrl }] };
    const one = await put('/admin/campaigns/cu', c);
    expect(one.status).toBe(400);
    expect(await fieldOf(one)).toBe('creatives[1].clickUrl');
    const list = await put('/admin/campaigns', [campaign({ id: 'ok' }), c]);
    expect(list.status).toBe(400);
    expect(await fieldOf(list)).toBe('[1].creatives[1].clickUrl');
    const good = { ...base, creatives: [{ ...base.creatives[0]!, clickUrl: 'https://shop.example/landing?a=1' }] };
    expect((await put('/admin/campaigns/cu', good)).status).toBe(201);
  });
});

describe('experiment url payloads on admin writes', () => {
  const withUrl = (key: string, value: string) => ({
    ...config(key),
    arms: [config(key).arms[0], { key: 'b', payload: { type: 'url', value } }],
  });

  it.each(['javascript:alert(document.cookie)', 'data:text/html,<script>alert(1)</script>', 'ftp://files.example/x'])(
    '%s: 400 naming arms[1].payload.value, on create and edit',
    async (value) => {
      const created = await admin('/admin/experiments', withUrl('urls', value));
      expect(created.status).toBe(400);
      expect(await fieldOf(created)).toBe('arms[1].payload.value');
      expect((await admin('/admin/experiments', withUrl('urls', 'https://shop.example/offer'))).status).toBe(201);
      const edited = await admin('/admin/experiments/urls', withUrl('urls', value), 'PUT');
      expect(edited.status).toBe(400);
      expect(await fieldOf(edited)).toBe('arms[1].payload.value');
      // one stored before the rule still reads (the rule is for writes)
      const stored = newExperiment(parseExperimentConfig(withUrl('legacy-url', value)), Date.now());
      await env.KV.put(experimentKey('legacy-url'), JSON.stringify(stored));
      expect((await admin('/admin/experiments/legacy-url', undefined, 'GET')).status).toBe(200);
    },
  );
});
