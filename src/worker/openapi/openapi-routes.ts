/** GET /openapi.json: the generated API document (see ../openapi-document.ts). */
import { Hono } from 'hono';
import document from './openapi.json' with { type: 'json' };
import type { AppEnv } from '../shared/types.ts';

export const openApiRoutes = new Hono<AppEnv>().get('/openapi.json', (c) => c.json(document));
