/** The shared OpenRTB corpus (../shared/data/openrtb, never copied here), read in Node. */
import { HAS_SHARED_DATA, SHARED_DATA } from '../fixtures/shared-data.ts';
import fs from 'node:fs';
import path from 'node:path';
import { STRUCTURAL_BREAKS } from '../openrtb-expectations.ts';

export { INLINE_BREAKS, STRUCTURAL_BREAKS } from '../openrtb-expectations.ts';

export const CORPUS_DIR = path.join(SHARED_DATA, 'openrtb');
export { HAS_SHARED_DATA };

export interface CorpusCase {
  readonly file: string;
  readonly body: string;
  /** the field a 400 must name, or null when the request is valid OpenRTB */
  readonly expectField: string | null;
  readonly pbsCode: number | null;
}

interface ManifestLine {
  file: string;
  kind: string;
  pbs_expected_return_code?: number;
}

export function loadCorpus(): CorpusCase[] {
  const lines = fs.readFileSync(path.join(CORPUS_DIR, 'manifest.jsonl'), 'utf8').split('\n').filter(Boolean);
  const out: CorpusCase[] = [];
  for (const line of lines) {
    const m = JSON.parse(line) as ManifestLine;
    if (m.kind !== 'bid_request') continue;
    const name = path.basename(m.file);
    out.push({
      file: name,
      body: fs.readFileSync(path.join(CORPUS_DIR, m.file), 'utf8'),
      expectField: STRUCTURAL_BREAKS[name] ?? null,
      pbsCode: m.pbs_expected_return_code ?? null,
    });
  }
  return out;
}
