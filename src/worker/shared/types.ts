/** The Hono environment every route sees: bindings from `wrangler types`, plus per-request state. */
import type { Context } from 'hono';
import type { Site } from '../sites/site-schema.ts';

/** `site`: the request's site (sites/site-middleware.ts); unset on paths it does not run for. */
export type AppEnv = { Bindings: Env; Variables: { site?: Site } };
export type AppContext = Context<AppEnv>;
