/**
 * The "Active" time of a V8 CPU profile as `wrangler check startup` prints it: the sampled time
 * (the sum of the samples' time deltas) less the samples that fell in `(idle)`. Garbage
 * collection counts as active.
 */
export interface CpuProfile {
  readonly nodes: readonly { id: number; callFrame: { functionName: string } }[];
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

/** Active milliseconds of `profile`. */
export function activeMs(profile: CpuProfile): number {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const samples = profile.samples ?? [];
  let active = 0;
  for (const [i, dt] of (profile.timeDeltas ?? []).entries()) if (!idle.has(samples[i] ?? 0)) active += dt;
  return active / 1000;
}
