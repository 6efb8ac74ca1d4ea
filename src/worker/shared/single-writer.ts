/**
 * What the one-writer Durable Objects (bidding/campaign-writer.ts, models/model-writer.ts) share:
 * a queue that runs their writes one group at a time, and the rules of writing one KV key. KV
 * takes about one write a second to a key, and for up to about a minute after a write a read
 * elsewhere (or a cache) may still return the older value.
 */
import { log } from './log.ts';
import { settings } from './settings.ts';

/** What a writer remembers of its last write of a key (in its storage, so a restart keeps it). */
export interface Written {
  /** the value it put, as put */
  readonly last: string;
  /** when (ms) */
  readonly at: number;
}

/**
 * The value a read-modify-write starts from. KV is the source of truth, so a value put there by
 * hand or by a CLI is what the next write starts from; but for `staleMs` after the writer's own
 * put, a read may still return an older value (Cloudflare documents up to about a minute), and a
 * write from it would undo the put. So within that window the last put stands: a hand edit made
 * within a minute of an API write is overwritten by the next API write.
 */
export function baseText(stored: string | null, written: Written | null, now: number, staleMs: number): string | null {
  return written !== null && now - written.at < staleMs ? written.last : stored;
}

/** How long to wait before the next put of a key last tried at `lastMs`. */
export function gapWait(gapMs: number, lastMs: number, now: number): number {
  return Math.max(0, gapMs - (now - lastMs));
}

/**
 * One writer's window on the one KV key it owns: the last value it put (kept in the object's
 * storage), and when it last tried, so a put waits out KV_WRITE_GAP_MS after the one before
 * (a refused put too) and a read within KV_STALE_MS of its own put starts from that put.
 */
export class KeyWriteWindow {
  private written: Written | null = null;
  /** when this writer last tried to put (ms): a refused put waits out the gap too */
  private attempted = 0;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    /** names the writer in the log */
    private readonly writer: string,
  ) {
    ctx.blockConcurrencyWhile(async () => {
      this.written = (await ctx.storage.get<Written>('written')) ?? null;
    });
  }

  /** What a read-modify-write starts from, given what KV returned (`baseText`). */
  base(stored: string | null): string | null {
    return baseText(stored, this.written, Date.now(), settings(this.env).staleMs);
  }

  /** Waits until the key may be put again. */
  async gap(): Promise<void> {
    const wait = gapWait(settings(this.env).writeGapMs, Math.max(this.attempted, this.written?.at ?? 0), Date.now());
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  /** Puts `text` (through `put`) once the gap allows, and remembers it; a refused put throws. */
  async put(text: string, put: (text: string) => Promise<void>): Promise<void> {
    await this.gap();
    const at = Date.now();
    this.attempted = at;
    await put(text);
    this.written = { last: text, at };
    try {
      await this.ctx.storage.put('written', this.written);
    } catch (err) {
      // the value is saved; only a restart within the stale window would forget it was ours
      log.error(`${this.writer} could not note its write`, { error: String(err) });
    }
  }
}

/**
 * Calls of a writer, run one group at a time: every call that arrives while a group runs (or
 * waits, in `before`) joins the next group, and each gets its own answer from `run`. A writer
 * that must apply calls one by one runs each group in order; one that can fold them (the
 * campaign list) reads and saves once per group.
 */
export function groupQueue<Op, Answer>(
  run: (group: readonly Op[]) => Promise<readonly Answer[]>,
  before: () => Promise<void> = async () => {},
): (op: Op) => Promise<Answer> {
  const queue: { op: Op; done: (a: Answer) => void; fail: (err: unknown) => void }[] = [];
  let running = false;
  async function drain(): Promise<void> {
    if (running) return;
    running = true;
    try {
      while (queue.length > 0) {
        await before();
        const group = queue.splice(0);
        try {
          const answers = await run(group.map((p) => p.op));
          group.forEach((p, i) => {
            p.done(answers[i]!);
          });
        } catch (err) {
          for (const p of group) p.fail(err);
        }
      }
    } finally {
      running = false;
    }
  }
  return (op) =>
    new Promise<Answer>((done, fail) => {
      queue.push({ op, done, fail });
      void drain();
    });
}
