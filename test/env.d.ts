// Types `exports` from "cloudflare:workers" in tests as the main Worker module's exports.
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import('../src/worker/index.ts');
  }
}
