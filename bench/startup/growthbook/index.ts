/**
 * GrowthBook's edge app as a Cloudflare Worker, the startup baseline of `npm run bench:startup`
 * (never deployed): the package's request handler behind a module Worker's fetch, configured by
 * the vars and KV bindings in wrangler.toml beside this file.
 */
import { type Env, handleRequest } from '@growthbook/edge-cloudflare';

export default {
  fetch: (request: Request, env: Env) => handleRequest(request, env),
};
