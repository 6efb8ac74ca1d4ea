import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/worker/openapi/openapi-document.ts';

describe('the served OpenAPI document', () => {
  it('is what the validating schemas generate today (run `npm run openapi` after changing them)', () => {
    const served = JSON.parse(readFileSync(new URL('../../src/worker/openapi/openapi.json', import.meta.url), 'utf8'));
    expect(served).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });
});
