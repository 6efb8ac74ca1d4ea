import { describe, expect, it } from 'vitest';
import { fetchWorker } from './helpers.ts';

describe('smoke', () => {
  it('serves health', async () => {
    const res = await fetchWorker('/healthz');
    expect(res.status).toBe(200);
  });
});
