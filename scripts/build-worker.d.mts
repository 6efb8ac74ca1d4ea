import type { Metafile } from 'esbuild';
export const WORKER_BUILD_DIR: string;
export function buildWorker(opts?: { outdir?: string; metafile?: string }): Promise<{ metafile: Metafile }>;
