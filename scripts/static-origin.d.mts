import type { Server } from 'node:http';
export function resolveFile(root: string, pathname: string): Promise<string | null>;
export function startStaticOrigin(opts: {
  root: string;
  port?: number;
  host?: string;
  headers?: (path: string) => Record<string, string>;
}): Promise<{ server: Server; url: string; close: () => Promise<void> }>;
