/** The Hono environment every route sees: bindings from `wrangler types`, plus per-request state. */
import type { Context } from 'hono';

export type AppEnv = { Bindings: Env };
export type AppContext = Context<AppEnv>;
