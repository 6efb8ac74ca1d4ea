/**
 * The log queue's consumer (this Worker's `queue()` handler): every decision record and
 * outcome event lands in R2 (binding `LOG`) as gzip NDJSON, one object per batch. A message
 * is a pack of records, or one record as messages were before packs (log-pack.ts).
 *
 * Delivery: the batch is acked only after its R2 put resolved. If the put fails, the whole
 * batch is retried with exponential backoff; after `max_retries` (wrangler.toml) the queue
 * moves its messages to the dead-letter queue `attune-events-dlq`, so nothing is dropped.
 * A retried batch writes the same key (see log-object.ts), so a retry after a put that did
 * land (but whose answer was lost) overwrites rather than duplicates. Queues deliver at least
 * once, so readers still dedupe by record id (docs/log-schema.md).
 */
import { posesAsServerOutcome, type LogRecord } from '../../core/outcome-event.ts';
import { forwardToExperiments } from '../experiments/forward.ts';
import { DEFAULT_SITE, logObjectKey, SITE_NAME } from '../../core/log-layout.ts';
import { gzipNdjson } from './log-object.ts';
import { unpack } from './log-pack.ts';
import { siteEnv } from '../sites/site-env.ts';
import { queueCounts } from './queue-stats.ts';
import { log } from '../shared/log.ts';

/**
 * Consumers of records that are safely in R2, one line per sink. The batch is acked only after
 * every sink succeeded; if one fails, the whole batch is retried with backoff. That is safe
 * because both steps are idempotent under redelivery: the R2 object key is derived from the
 * message ids (a retry overwrites), and the experiment aggregators count one exposure per
 * visitor per attribution window and one conversion per exposure.
 */
export type LogSink = (env: Env, records: LogRecord[]) => Promise<unknown>;
export const AFTER_WRITE: LogSink[] = [forwardToExperiments];

/** seconds before retry n (1-based): 10, 20, 40 … capped at 10 minutes */
export function backoffSeconds(attempts: number): number {
  return Math.min(600, 10 * 2 ** Math.max(0, attempts - 1));
}

export async function consumeLog(
  batch: MessageBatch<unknown>,
  env: Env,
  _ctx: ExecutionContext,
  sinks: readonly LogSink[] = AFTER_WRITE,
): Promise<void> {
  // one object per site in the batch, each under its own `site=` partition (docs/sites.md)
  const bySite = new Map<string, { records: LogRecord[]; ids: Set<string> }>();
  const seen = new Set<string>();
  let first = Infinity;
  let attempts = 1;
  let carried = 0;
  for (const msg of batch.messages) {
    attempts = Math.max(attempts, msg.attempts);
    first = Math.min(first, msg.timestamp.getTime());
    const unpacked = unpack(msg.body);
    if (unpacked === null || unpacked.foreign > 0) {
      // Only our own routes produce; a foreign body would retry forever, so say so and drop it.
      log.error('log: not a log record, dropped', {
        messageId: msg.id,
        ...(unpacked ? { entries: unpacked.foreign } : {}),
        body: String(typeof msg.body === 'string' ? msg.body : JSON.stringify(msg.body)).slice(0, 500),
      });
      if (unpacked === null) continue;
    }
    carried += unpacked.records.length;
    for (const r of unpacked.records) {
      // a client event with a notice's id, accepted before /v1/events refused them: it must not
      // take the notice's place below
      if (r.type === 'outcome' && posesAsServerOutcome(r)) {
        log.warn('log: client event with a notice id, dropped', { id: r.id, name: r.name });
        continue;
      }
      // the same record sent twice inside one batch; ids are unique per type (a client may give a
      // click the id of the decision it follows)
      const key = `${r.type}:${r.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const site = typeof r.site === 'string' && SITE_NAME.test(r.site) ? r.site : DEFAULT_SITE;
      let group = bySite.get(site);
      if (group === undefined) bySite.set(site, (group = { records: [], ids: new Set() }));
      group.records.push(r);
      group.ids.add(msg.id);
    }
  }
  for (const [site, { records, ids }] of bySite) {
    // the default site alone (a deployment without sites): the key of before, from every message id
    const key =
      site === DEFAULT_SITE && bySite.size === 1
        ? logObjectKey(
            first,
            batch.messages.map((m) => m.id),
          )
        : logObjectKey(first, [...ids], site);
    try {
      const body = await gzipNdjson(records);
      await env.LOG.put(key, body, {
        httpMetadata: { contentType: 'application/x-ndjson' },
        customMetadata: { records: String(records.length), queue: batch.queue },
      });
    } catch (err) {
      const delaySeconds = backoffSeconds(attempts);
      log.error('log: R2 write failed, batch retried', { key, attempts, delaySeconds, error: String(err) });
      batch.retryAll({ delaySeconds });
      return;
    }
    try {
      const seenBy = siteEnv(env, { id: site }); // a named site's experiments are its own (sites/site-env.ts)
      await Promise.all(sinks.map((sink) => sink(seenBy, records)));
    } catch (err) {
      const delaySeconds = backoffSeconds(attempts);
      log.error('log: sink failed, batch retried', { key, attempts, delaySeconds, error: String(err) });
      batch.retryAll({ delaySeconds });
      return;
    }
  }
  batch.ackAll();
  queueCounts.acked += carried;
}
