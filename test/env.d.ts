import 'vitest';

declare global {
  // Types `exports` from "cloudflare:workers" in tests as the main Worker module's exports.
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import('../src/worker/index.ts');
    }
  }
}

declare module 'vitest' {
  // Values vitest.config.ts provides to the workerd suite.
  export interface ProvidedContext {
    goldenLinear: string;
    goldenEnvelope: string;
    /** ../shared/data is present (suites on the real data sets skip without it) */
    hasSharedData: boolean;
    /** FUZZ_RUNS and FUZZ_SEED from the environment ('' when unset), for test/worker/fuzz */
    fuzz: { runs: string; seed: string };
  }
}
