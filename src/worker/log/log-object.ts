/**
 * One log object's bytes: a batch of records as gzip NDJSON (its key: core/log-layout.ts).
 */
/** NDJSON (one record per line, trailing newline) gzipped with the platform's CompressionStream. */
export async function gzipNdjson(records: readonly unknown[]): Promise<Uint8Array> {
  let text = '';
  for (const r of records) text += JSON.stringify(r) + '\n';
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function gunzipNdjson(bytes: ArrayBuffer | Uint8Array): Promise<unknown[]> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  const text = await new Response(stream).text();
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
}
