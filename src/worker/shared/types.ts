/** The Hono environment every route sees: bindings from `wrangler types`, plus per-request state. */
import type { Context } from 'hono';

export type AppEnv = {
  Bindings: Env;
  /** `admin`: the label of the admin token that authorized this request (bearer-auth.ts), for the audit log */
  Variables: { admin?: string };
};
export type AppContext = Context<AppEnv>;
