// Writes src/worker/openapi/openapi.json from the request schemas: `npm run openapi`.
import { writeFileSync } from 'node:fs';
import { openApiDocument } from '../src/worker/openapi/openapi-document.ts';

writeFileSync(new URL('../src/worker/openapi/openapi.json', import.meta.url), `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log('wrote src/worker/openapi/openapi.json');
