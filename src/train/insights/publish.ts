/**
 * `--publish`: the report and its findings into the R2 bucket `LOG` under `reports/`
 * (core/report-keys.ts), where the admin page lists them. Local R2 only (the bucket `npm start`'s
 * Worker uses, in `.wrangler/state` or `--persist`), reached as --r2-local reads it.
 */
import { reportKey } from '../../core/report-keys.ts';
import { platformPersist } from '../storage.ts';

interface R2Put {
  put(key: string, value: string, opts?: { httpMetadata?: { contentType?: string } }): Promise<unknown>;
}

export async function publishLocal(name: string, html: string, json: string, persistTo?: string): Promise<string[]> {
  const { getPlatformProxy } = await import('wrangler');
  const proxy = await getPlatformProxy<{ LOG: R2Put }>({ persist: platformPersist(persistTo) });
  try {
    const keys = [reportKey(name, 'html'), reportKey(name, 'json')];
    await proxy.env.LOG.put(keys[0]!, html, { httpMetadata: { contentType: 'text/html; charset=utf-8' } });
    await proxy.env.LOG.put(keys[1]!, json, { httpMetadata: { contentType: 'application/json' } });
    return keys;
  } finally {
    await proxy.dispose();
  }
}
