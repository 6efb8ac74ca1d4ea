/** The Hono environment every route sees: bindings from `wrangler types`, plus per-request state. */
import type { Context } from 'hono';
import type { Site } from '../sites/site-schema.ts';

export type AppEnv = {
  Bindings: Env;
  /**
   * `admin`: the label of the admin token that authorized this request (bearer-auth.ts), for the audit log;
   * `site`: the request's site (sites/site-middleware.ts), unset on paths it does not run for;
   * `adminSite`: the one site an admin page session of a site token acts for (shared/admin-sign-in.ts)
   */
  Variables: { admin?: string; site?: Site; adminSite?: string };
};
export type AppContext = Context<AppEnv>;
