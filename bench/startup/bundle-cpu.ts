/**
 * Start-up CPU of a built Worker (the bundle `wrangler deploy --dry-run --outfile` writes, the
 * input of `wrangler check startup --worker`), counted as the CPU workerd spends on it rather
 * than sampled: the bundle's modules in a fresh Miniflare behind the same stub `wrangler check
 * startup` uses (its fetch handler imports the Worker's main module), and workerd's time on a
 * core across that first fetch (workerd-cpu.ts). The second fetch of the same instance, which
 * imports nothing, is the cost of the request itself; `controlBundle` gives the floor a Worker
 * with an empty module pays.
 */
import { readFileSync } from 'node:fs';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { cpuMsBetween, onCpu, theWorkerd } from '../workerd-cpu.ts';

export interface ParsedBundle {
  readonly mainModule: string;
  readonly compatibilityDate?: string;
  readonly compatibilityFlags?: string[];
  readonly modules: { type: 'ESModule' | 'CompiledWasm' | 'Text' | 'Data'; path: string; contents: Uint8Array }[];
}

const MODULE_TYPES: Record<string, ParsedBundle['modules'][number]['type']> = {
  'application/javascript+module': 'ESModule',
  'application/wasm': 'CompiledWasm',
  'text/plain': 'Text',
  'application/octet-stream': 'Data',
};

/** The multipart form wrangler writes: a `metadata` part and one part per module (source maps skipped). */
export async function readBundle(file: string): Promise<ParsedBundle> {
  const bytes = readFileSync(file);
  const boundary = bytes.subarray(2, bytes.indexOf(10)).toString().trim();
  const form = await new Response(bytes, { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }).formData();
  const meta = JSON.parse(String(form.get('metadata'))) as {
    main_module: string;
    compatibility_date?: string;
    compatibility_flags?: string[];
  };
  const modules: ParsedBundle['modules'] = [];
  for (const [name, part] of form.entries()) {
    if (name === 'metadata' || typeof part === 'string' || part.type === 'application/source-map') continue;
    const type = MODULE_TYPES[part.type.split(';')[0]!];
    if (!type) throw new Error(`${file}: module ${name} has a type this bench does not load (${part.type})`);
    modules.push({ type, path: name.replace(/^\.\//, ''), contents: new Uint8Array(await part.arrayBuffer()) });
  }
  return {
    mainModule: meta.main_module,
    compatibilityDate: meta.compatibility_date,
    compatibilityFlags: meta.compatibility_flags,
    modules,
  };
}

/** A Worker whose module does nothing: what every start-up here costs besides the Worker's own code. */
export const controlBundle: ParsedBundle = {
  mainModule: 'index.js',
  modules: [{ type: 'ESModule', path: 'index.js', contents: new TextEncoder().encode('export default {};\n') }],
};

const STUB = 'startup-stub.mjs';

export interface StartupCpu {
  /** ms of workerd CPU across the fetch that imports the Worker */
  readonly startup: number;
  /** ms of workerd CPU across a second fetch of the same instance (nothing left to import) */
  readonly request: number;
}

export async function startupCpu(bundle: ParsedBundle): Promise<StartupCpu> {
  const stub = `export default { async fetch() { await import(${JSON.stringify(bundle.mainModule)}); return new Response('ok'); } };\n`;
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      compatibilityDate: bundle.compatibilityDate ?? '2026-11-01',
      compatibilityFlags: bundle.compatibilityFlags,
      modulesRoot: '/',
      modules: [{ type: 'ESModule', path: `/${STUB}`, contents: stub }, ...bundle.modules.map((m) => ({ ...m, path: `/${m.path}` }))],
    }),
  );
  try {
    await mf.ready;
    const pid = theWorkerd();
    const t0 = onCpu(pid);
    const first = await mf.dispatchFetch('http://startup.test/');
    if ((await first.text()) !== 'ok') throw new Error(`start-up failed: ${first.status}`);
    const t1 = onCpu(pid);
    await (await mf.dispatchFetch('http://startup.test/')).text();
    const t2 = onCpu(pid);
    return { startup: cpuMsBetween(t0, t1), request: cpuMsBetween(t1, t2) };
  } finally {
    await mf.dispose();
  }
}
