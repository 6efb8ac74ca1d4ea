/**
 * Streams log records from wherever the log is: a folder (recursively, files in name order, so
 * the `dt=…/hour=…` layout reads oldest first), single `.ndjson`/`.ndjson.gz`/`.jsonl` files,
 * or the R2 bucket `LOG` as `wrangler dev` persists it locally (through getPlatformProxy).
 * For the real bucket, sync it to a folder first (R2 speaks S3: `rclone sync`, `aws s3 sync`);
 * docs/log-schema.md shows how.
 *
 * Memory: one file's stream buffers (or one R2 object) at a time, never the whole log.
 * Lines travel in chunks (one array per 1 MB read), and records in batches: an async step per
 * record (readline, a for-await per line) would cost more than parsing the record.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { constants as zlibConstants, createGunzip, gunzipSync } from 'node:zlib';
import { LOG_PREFIX } from '../core/log-layout.ts';
import type { LogRecord } from '../core/outcome-event.ts';
import { localPlatform } from './platform-proxy.ts';

export interface LogSource {
  readonly name: string;
  /** compressed size on disk, for progress */
  readonly bytes: number;
  /** the source's lines, a chunk at a time */
  lines(): AsyncIterable<string[]>;
}

/** Splits a byte stream into arrays of complete lines. */
export async function* lineChunks(stream: AsyncIterable<Buffer>): AsyncGenerator<string[]> {
  let carry = '';
  for await (const buf of stream) {
    const text = carry + buf.toString('utf8');
    const lines = text.split('\n');
    carry = lines.pop()!;
    if (lines.length > 0) yield lines;
  }
  if (carry.length > 0) yield [carry];
}

const LOG_FILE = /\.(ndjson|jsonl)(\.gz)?$/;

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (LOG_FILE.test(e.name)) out.push(p);
  }
}

/**
 * A file that breaks off (a partial sync, a truncated gzip) keeps the lines read before the
 * break, loses the torn one, and does not end the run: the rest of the log is still good.
 */
function warnBroken(name: string, err: unknown): void {
  console.warn(`${name}: ${err instanceof Error ? err.message : String(err)}; kept the lines before the break`);
}

export function fileSource(path: string, bytes: number): LogSource {
  return {
    name: path,
    bytes,
    async *lines() {
      const raw = createReadStream(path, { highWaterMark: 1 << 20 });
      try {
        yield* lineChunks(path.endsWith('.gz') ? raw.pipe(createGunzip({ chunkSize: 1 << 20 })) : raw);
      } catch (err) {
        warnBroken(path, err);
      } finally {
        raw.destroy();
      }
    },
  };
}

/** Files of a folder (recursively) or a single file. */
export async function pathSources(path: string): Promise<LogSource[]> {
  const s = await stat(path);
  const files: string[] = [];
  if (s.isDirectory()) await walk(path, files);
  else files.push(path);
  const out: LogSource[] = [];
  for (const f of files) out.push(fileSource(f, (await stat(f)).size));
  return out;
}

interface R2Like {
  list(opts: {
    prefix: string;
    cursor?: string;
  }): Promise<{ objects: { key: string; size: number }[]; truncated: boolean; cursor?: string }>;
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

/** The local R2 bucket `LOG` (wrangler's persistence, `.wrangler/state` unless `persistTo`). */
export async function localR2Sources(
  persistTo?: string,
  prefix = LOG_PREFIX,
): Promise<{ sources: LogSource[]; close: () => Promise<void> }> {
  const proxy = await localPlatform<{ LOG: R2Like }>(persistTo);
  const bucket = proxy.env.LOG;
  const sources: LogSource[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
    for (const o of page.objects) {
      sources.push({
        name: `r2://${o.key}`,
        bytes: o.size,
        async *lines() {
          const obj = await bucket.get(o.key);
          if (!obj) return;
          const buf = Buffer.from(await obj.arrayBuffer());
          let text: string;
          try {
            text = (o.key.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
          } catch (err) {
            // what a truncated gzip still holds, without its torn last line
            text = gunzipSync(buf, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString('utf8');
            text = text.slice(0, text.lastIndexOf('\n') + 1);
            warnBroken(`r2://${o.key}`, err);
          }
          yield text.split('\n');
        },
      });
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  sources.sort((a, b) => (a.name < b.name ? -1 : 1));
  return { sources, close: () => proxy.dispose() };
}

/** how far past this machine's clock a record's time may lie (clock skew between writers) */
export const FUTURE_SLACK_MS = 86_400_000;

export interface ReadStats {
  lines: number;
  bad: number;
  bytesDone: number;
}

/**
 * Every record of every source, in order, in batches. Lines that are not JSON log records are
 * counted in `stats.bad` and skipped: one corrupt line must not stop a retrain.
 */
export async function* readRecords(
  sources: readonly LogSource[],
  stats: ReadStats = { lines: 0, bad: 0, bytesDone: 0 },
): AsyncGenerator<LogRecord[]> {
  // A time from the future is corrupt: it would move the attribution clock past every pending
  // decision, which then waits to the end of the run (memory growing with the log).
  const latest = Date.now() + FUTURE_SLACK_MS;
  for (const src of sources) {
    for await (const lines of src.lines()) {
      const batch: LogRecord[] = [];
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        if (line.length === 0 || line === '\r') continue;
        stats.lines++;
        let rec: LogRecord;
        try {
          rec = JSON.parse(line) as LogRecord;
        } catch {
          stats.bad++;
          continue;
        }
        if (rec === null || typeof rec !== 'object' || typeof rec.id !== 'string' || typeof rec.ts !== 'number' || !(rec.ts <= latest)) {
          stats.bad++;
          continue;
        }
        batch.push(rec);
      }
      if (batch.length > 0) yield batch;
    }
    stats.bytesDone += src.bytes;
  }
}
