/**
 * Write coalescing for small inserts: while one round of INSERT scripts is in flight, the
 * small insert calls that arrive wait, and the next round writes all of them, one script per
 * shard. A lone caller pays nothing (nothing in flight: its call goes at once); fifty callers
 * awaiting their delay() at once share one round trip and one script call, where each would
 * otherwise pay its own (about 20 µs of script overhead inside Redis, and the client's work
 * per command). It is the group commit of inserts, as journal.ts is for outcomes.
 *
 * Each call stays all-or-none: its tasks go to one shard (keyless ones to the round's shard,
 * keyed ones to their key's shard) and so into one script, which Redis runs atomically. A
 * script refused (out of memory, a failover) rejects every call in it, none of which wrote
 * anything; the calls of other shards are not affected. On one shard, ids increase in the
 * order the calls were made.
 */
import type { Inserted, NewTask } from '../types.js';
import { INSERT_BYTES, INSERT_CHUNK, fitsOneScript } from './insert.js';
import { shardOfKey } from './keys.js';

/** Writes tasks bound for one shard in one script (keyless ones to `shard`). */
export type WriteShard = (shard: number, tasks: readonly NewTask[]) => Promise<Inserted[]>;

interface Waiting {
  tasks: readonly NewTask[];
  /** The shard of its keyed tasks, or null when it has none (it takes the round's shard). */
  shard: number | null;
  resolve: (inserted: Inserted[]) => void;
  reject: (error: unknown) => void;
}

/**
 * The shard a small call's tasks all go to: its keys' shard, `null` for a keyless call, or
 * `undefined` when it is not a small call of one shard (it is written on its own).
 */
export function smallCallShard(tasks: readonly NewTask[], shards: number): number | null | undefined {
  if (!fitsOneScript(tasks)) return undefined;
  let shard: number | null = null;
  for (const t of tasks) {
    if (t.key === null) continue;
    const own = shardOfKey(t.key, shards);
    if (shard !== null && own !== shard) return undefined;
    shard = own;
  }
  return shard;
}

export class InsertCoalescer {
  readonly #write: WriteShard;
  readonly #nextShard: () => number;
  #waiting: Waiting[] = [];
  #inFlight = false;

  /** `nextShard` picks the shard of a round's keyless calls (the store's round robin). */
  constructor(write: WriteShard, nextShard: () => number) {
    this.#write = write;
    this.#nextShard = nextShard;
  }

  insert(tasks: readonly NewTask[], shard: number | null): Promise<Inserted[]> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ tasks, shard, resolve, reject });
      if (!this.#inFlight) void this.#rounds();
    });
  }

  /** Rounds one after another until no call waits; at most one round is in flight. */
  async #rounds(): Promise<void> {
    this.#inFlight = true;
    try {
      while (this.#waiting.length > 0) await this.#round(this.#take());
    } finally {
      this.#inFlight = false;
    }
  }

  /** The oldest waiting calls that fit one INSERT script together (at least one call). */
  #take(): Waiting[] {
    let count = 0;
    let bytes = 0;
    let n = 0;
    for (; n < this.#waiting.length; n++) {
      const tasks = this.#waiting[n]!.tasks;
      const size = tasks.reduce((sum, t) => sum + t.args.length, 0);
      if (n > 0 && (count + tasks.length > INSERT_CHUNK || bytes + size > INSERT_BYTES)) break;
      count += tasks.length;
      bytes += size;
    }
    return this.#waiting.splice(0, n);
  }

  async #round(calls: Waiting[]): Promise<void> {
    const keyless = this.#nextShard();
    const byShard = new Map<number, Waiting[]>();
    for (const call of calls) {
      const shard = call.shard ?? keyless;
      const group = byShard.get(shard);
      if (group) group.push(call);
      else byShard.set(shard, [call]);
    }
    // Calls waiting together were concurrent: no order between their shards is owed.
    await Promise.all([...byShard].map(([shard, group]) => this.#writeGroup(shard, group)));
  }

  async #writeGroup(shard: number, group: Waiting[]): Promise<void> {
    let inserted: Inserted[];
    try {
      inserted = await this.#write(shard, group.flatMap((call) => call.tasks));
    } catch (error) {
      for (const call of group) call.reject(error);
      return;
    }
    let at = 0;
    for (const call of group) {
      call.resolve(inserted.slice(at, at + call.tasks.length));
      at += call.tasks.length;
    }
  }
}
