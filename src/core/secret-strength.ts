/**
 * Which secrets are too weak to use: shorter than 32 characters, or a placeholder from
 * `.dev.vars.example` (copied to production by mistake, it would let anyone who read the example
 * sign notices or sign in). A weak secret counts as not configured: the feature it guards is off
 * (a 503, or no bids) rather than open to a guess. `npm start` writes 32-character random ones.
 */

export const MIN_SECRET_LENGTH = 32;

/**
 * Every example value `.dev.vars.example` holds or has held (a test keeps the list in step with
 * the file): refused whatever their length.
 */
export const EXAMPLE_SECRETS: ReadonlySet<string> = new Set([
  'change-me-to-a-long-random-string',
  'change-me-too',
  'change-me-to-another-long-random-string',
  'change-me-to-a-long-random-key',
]);

/** Why a secret is refused (never its value), or null when it is fit to use. */
export function secretProblem(value: string): string | null {
  if (EXAMPLE_SECRETS.has(value)) return 'the example value from .dev.vars.example';
  if (value.length < MIN_SECRET_LENGTH) return `shorter than ${MIN_SECRET_LENGTH} characters`;
  return null;
}
