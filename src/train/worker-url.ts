/**
 * Where the CLIs reach the Worker: `--url`, else ATTUNE_URL, else the local `npm start` on
 * 127.0.0.1:$PORT (8787 when PORT is unset), and a one-line answer when nothing is listening.
 */
import { CliError, type CliOption, UsageError } from './cli.ts';

export const URL_OPTION = {
  type: 'string',
  arg: 'URL',
  help: 'the Worker to call (env ATTUNE_URL; default http://127.0.0.1:$PORT, PORT default 8787)',
} as const satisfies CliOption;

export function defaultWorkerUrl(env: NodeJS.ProcessEnv = process.env): string {
  return `http://127.0.0.1:${env.PORT || '8787'}`;
}

/** The base URL the user asked for, checked; no trailing slash. */
export function workerUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const raw = flag ?? (env.ATTUNE_URL || defaultWorkerUrl(env));
  const from = flag !== undefined ? '--url' : env.ATTUNE_URL ? 'ATTUNE_URL' : 'PORT';
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`${from}: "${raw}" is not a URL (e.g. http://127.0.0.1:8787)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`${from}: "${raw}" must be an http or https URL`);
  return raw.replace(/\/+$/, '');
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT']);

/** `fetch`, but a server that cannot be reached is a CliError that names the URL and what to do. */
export async function fetchWorker(base: string, path: string, init?: RequestInit): Promise<Response> {
  const url = new URL(path, `${base}/`);
  try {
    return await fetch(url, init);
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? '';
    if (UNREACHABLE.has(code) || code.startsWith('UND_ERR_CONNECT') || (err instanceof TypeError && /fetch failed/.test(err.message)))
      throw new CliError(
        `cannot reach the Worker at ${base} (${code || cause?.message || 'no answer'}): is \`npm start\` running there? ` +
          'For another address pass --url or set ATTUNE_URL.',
      );
    throw err;
  }
}
