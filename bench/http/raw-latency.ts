/**
 * Raw per-request latencies over one keep-alive connection, one request at a time, timed with
 * `process.hrtime.bigint()` from before the request is written until its body has ended.
 * autocannon rounds every latency to whole milliseconds, which hides everything the HTTP
 * benches compare (a decision and an empty handler differ by tenths of a millisecond).
 */
import { Agent, request } from 'node:http';

export interface Answer {
  /** ms from writing the request to the end of its body */
  readonly ms: number;
  /** ms to the first byte of the body (a bodiless answer: to its end) */
  readonly ttfb: number;
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface Call {
  readonly method?: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
}

/** A client of `base` on one keep-alive connection; `close` ends it. */
export function rawClient(base: string | URL) {
  const url = new URL(base);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const send = (call: Call) =>
    new Promise<Answer>((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      let first = 0n;
      const req = request(
        { host: url.hostname, port: url.port, method: call.method ?? 'GET', path: call.path, agent, headers: call.headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => {
            if (first === 0n) first = process.hrtime.bigint();
            chunks.push(d);
          });
          res.on('end', () => {
            const t1 = process.hrtime.bigint();
            resolve({
              ms: Number(t1 - t0) / 1e6,
              ttfb: Number((first || t1) - t0) / 1e6,
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(call.body);
    });
  return { send, close: () => agent.destroy() };
}

/** The `p` quantile (0..1) of `xs`, nearest rank. */
export function quantile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

export const median = (xs: readonly number[]) => quantile(xs, 0.5);

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

export const percentiles = (xs: readonly number[]): Percentiles => ({
  p50: quantile(xs, 0.5),
  p90: quantile(xs, 0.9),
  p99: quantile(xs, 0.99),
});

/** Milliseconds with three decimals, for the JSON lines the benches end with. */
export const ms3 = (x: number) => Math.round(x * 1000) / 1000;
