/**
 * The Redis store (issue 12): the store contract over Redis 7 or a Redis Cluster, every state
 * change one Lua script on one shard (scripts/). A queue has `shards` shards, each in its own
 * hash slot; a task lives on one shard for good (id % 1024 is its shard), so get/cancel/record
 * route by id, a keyed task goes to crc32(key) % shards (its dedupe is one atomic script), a
 * batch and its items to one shard, and other inserts round robin. A claim runs on every
 * shard (one script each, concurrently) and its cursor is the least of theirs.
 *
 * The store connects on its first call (openStore stays synchronous): no server means
 * E_BACKEND_UNAVAILABLE within the connect timeout, never a hang; a later call tries again.
 */
import { DelaydError } from '../../errors.js';
import type { Chunk } from '../../bits.js';
import type {
  BatchItemRow, BatchRow, ClaimRequest, ClaimResult, Inserted, InsertedBatch, ListFilter, NewBatch, NewTask, Outcome,
  RecordResult, Stats, Store, TaskRow, WorkerRow, SlotCount, CronSync, CronSynced, CronRow,
} from '../types.js';
import { shardOfKey, MAX_SHARDS } from './keys.js';
import { connectTarget, wrapClient, type RedisLink, type UserClient } from './link.js';
import { parseRedisUrl, redact, type RedisTarget } from './url.js';
import { Session } from './session.js';
import { toBatchItems, toBatchRow, toMap, toTaskRow } from './rows.js';
import { checkOutcomes, checkTime } from './values.js';
import { batchChunks, insertBatch, recentBatches } from './batches.js';
import { claimAll } from './claim.js';
import { insertAll } from './insert.js';
import { InsertCoalescer, smallCallShard } from './coalesce.js';
import { readStats } from './stats.js';
import { CANCEL, RESCHEDULE, RETRY } from './scripts/change.js';
import { recordAll } from './record.js';
import { bury, heartbeat, orphanOwners, release, workers } from './liveness.js';
import { SLOT_LOAD } from './scripts/reads.js';
import { changeTask, listTasks, purgeFinished, shardIn, type ChangeScript } from './admin.js';
import { checkBatchLimit, checkSlotRange } from '../overview.js';
import { listCrons, syncCrons } from './cron.js';
import { BATCH_ITEMS } from './scripts/batches.js';
import type { NodeDurability } from './durability.js';
import { resolveRedisOptions, type RedisStoreOptions, type ResolvedRedisOptions } from './options.js';

export type { RedisStoreOptions } from './options.js';


export class RedisStore implements Store {
  readonly clock: 'local' | 'backend';
  /** Two: one share of the workers runs while the next share's starts are on their way. */
  readonly startsInFlight = 2;
  readonly where: string;
  readonly #o: ResolvedRedisOptions;
  readonly #target: RedisTarget | undefined;
  readonly #client: UserClient | undefined;
  #session: Promise<Session> | undefined;
  #closed = false;
  readonly #unsubscribes = new Set<() => Promise<void>>();
  /** Round robin over shards for inserts without a key. */
  #next = Math.floor(Math.random() * MAX_SHARDS);
  /** The highest task seq seen: ids from this process keep increasing across shards. */
  #floor = 0;
  /** Small concurrent inserts share a script (coalesce.ts); `#next` picks a round's shard. */
  readonly #small = new InsertCoalescer(
    async (shard, tasks) => this.#insertFrom(await this.#open(), shard, tasks),
    () => this.#next++,
  );

  constructor(options: RedisStoreOptions) {
    if ((options.url === undefined) === (options.client === undefined)) {
      throw new DelaydError('E_BAD_OPTION', 'Expected exactly one of `url` and `client` for a Redis store');
    }
    this.#target = options.url === undefined ? undefined : parseRedisUrl(options.url);
    this.#client = options.client;
    this.where = options.url === undefined ? 'the given Redis client' : redact(options.url);
    this.#o = resolveRedisOptions(options);
    this.clock = this.#o.trustCallerClock ? 'local' : 'backend';
  }

  /** What each master promises (read at open); empty before the first call or when not checked. */
  async durability(): Promise<NodeDurability[]> {
    return (await this.#open()).durability;
  }

  /** The number of shards of the queue (fixed at its creation). */
  async shardCount(): Promise<number> {
    return (await this.#open()).shards;
  }

  #open(): Promise<Session> {
    if (this.#closed) return Promise.reject(new DelaydError('E_STOPPED', `The Redis store (${this.where}) is closed`));
    this.#session ??= this.#connect().catch((error) => {
      this.#session = undefined; // the next call tries again
      throw error;
    });
    return this.#session;
  }

  async #connect(): Promise<Session> {
    let link: RedisLink;
    try {
      link = this.#target
        ? await connectTarget(this.#target, { connectTimeoutMs: this.#o.connectTimeoutMs, commandTimeoutMs: this.#o.commandTimeoutMs })
        : wrapClient(this.#client as UserClient, false, this.#o.commandTimeoutMs);
      if (this.#client && !this.#client.isOpen) await this.#client.connect();
    } catch (error) {
      if (error instanceof DelaydError) throw error;
      throw new DelaydError('E_BACKEND_UNAVAILABLE', `Cannot connect to Redis at ${this.where}: ${errorText(error)}`, { cause: error });
    }
    try {
      return await Session.open(link, { ...this.#o, where: this.where });
    } catch (error) {
      await link.close().catch(() => undefined);
      throw error;
    }
  }

  async insert(tasks: readonly NewTask[]): Promise<Inserted[]> {
    for (const t of tasks) checkTime(t.dueMs, 'the due time');
    if (tasks.length === 0) return [];
    const s = await this.#open();
    const shard = smallCallShard(tasks, s.shards);
    if (shard !== undefined) return this.#small.insert(tasks, shard);
    return this.#insertFrom(s, this.#next++, tasks);
  }

  /** Writes tasks in order, keyless ones from shard `start` (mod the shard count) on. */
  async #insertFrom(s: Session, start: number, tasks: readonly NewTask[]): Promise<Inserted[]> {
    const { inserted, floor } = await insertAll(s, tasks, start % s.shards, this.#floor, this.#o.requestTtlSec);
    this.#floor = Math.max(this.#floor, floor);
    return inserted;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    const s = await this.#open();
    return claimAll(s, request, this.#o.trustCallerClock ? -1 : this.#o.claimAheadMs);
  }

  async record(outcomes: readonly Outcome[]): Promise<RecordResult> {
    if (outcomes.length === 0) return { applied: [], earliestDueMs: null };
    checkOutcomes(outcomes);
    return recordAll(await this.#open(), outcomes);
  }

  async release(owner: string): Promise<number> {
    return release(await this.#open(), owner);
  }

  async bury(owner: string, beat: number | null): Promise<number | null> {
    return bury(await this.#open(), owner, beat);
  }

  async heartbeat(worker: Omit<WorkerRow, 'beat' | 'seenMs'>, atMs: number, continuing: boolean): Promise<boolean> {
    return heartbeat(await this.#open(), worker, atMs, continuing);
  }

  async workers(): Promise<WorkerRow[]> {
    return workers(await this.#open());
  }

  async orphanOwners(): Promise<string[]> {
    return orphanOwners(await this.#open());
  }

  async get(id: number): Promise<TaskRow | undefined> {
    const flat = await this.#hash(id, 't');
    return flat === undefined ? undefined : toTaskRow(id, toMap(flat));
  }

  /** HGETALL of the task (t) or batch (b) hash of an id; undefined when there is none. */
  async #hash(id: number, kind: 't' | 'b'): Promise<string[] | undefined> {
    const s = await this.#open();
    const shard = shardIn(s, id);
    if (shard === undefined) return undefined;
    const key = `${s.prefixes[shard]}${kind}:${id}`;
    const flat = (await s.command(key, ['HGETALL', key], false)) as string[];
    return flat.length === 0 ? undefined : flat;
  }

  async list(filter: ListFilter): Promise<TaskRow[]> {
    return listTasks(await this.#open(), filter);
  }

  async stats(): Promise<Stats> {
    return readStats(await this.#open());
  }

  /** Redis TIME in unix ms: the one clock every host sharing this Redis judges "due" by. */
  async now(): Promise<number> {
    const s = await this.#open();
    const [secs, micros] = (await s.command(`${s.prefixes[0]}cur`, ['TIME'], false)) as [string, string];
    return Number(secs) * 1000 + Math.floor(Number(micros) / 1000);
  }

  cancel(id: number, atMs: number): Promise<TaskRow> {
    return this.#change(CANCEL, id, atMs, 'the time of the cancel');
  }

  reschedule(id: number, dueMs: number): Promise<TaskRow> {
    return this.#change(RESCHEDULE, id, dueMs, 'the new due time');
  }

  retry(id: number, dueMs: number): Promise<TaskRow> {
    return this.#change(RETRY, id, dueMs, 'the due time');
  }

  async #change(script: ChangeScript, id: number, ms: number, what: string): Promise<TaskRow> {
    checkTime(ms, what);
    return changeTask(await this.#open(), script, id, ms);
  }

  async purge(finishedBeforeMs: number): Promise<number> {
    return purgeFinished(await this.#open(), finishedBeforeMs);
  }

  async insertBatch(batch: NewBatch, items: readonly NewTask[]): Promise<InsertedBatch> {
    checkTime(batch.dueMs, 'the due time of the batch');
    for (const t of items) checkTime(t.dueMs, 'the due time of a batch item');
    const s = await this.#open();
    const shard = batch.key === null ? this.#next++ % s.shards : shardOfKey(batch.key, s.shards);
    const { inserted, last } = await insertBatch(s, shard, batch, items, this.#floor, this.#o.requestTtlSec);
    if (inserted.created) this.#floor = Math.max(this.#floor, last);
    return inserted;
  }

  async getBatch(id: number): Promise<BatchRow | undefined> {
    const flat = await this.#hash(id, 'b');
    return flat === undefined ? undefined : toBatchRow(id, toMap(flat));
  }

  async batchChunks(id: number, chunk?: number): Promise<Chunk[]> {
    const s = await this.#open();
    const shard = shardIn(s, id);
    return shard === undefined ? [] : batchChunks(s, shard, id, chunk);
  }

  async batchItems(id: number, fromIndex: number, limit: number): Promise<BatchItemRow[]> {
    const s = await this.#open();
    const shard = shardIn(s, id);
    if (shard === undefined || limit <= 0) return [];
    return toBatchItems(await s.run(BATCH_ITEMS, shard, [id, fromIndex, limit], false));
  }

  async slotLoad(fromSecond: number, toSecond: number): Promise<SlotCount[]> {
    checkSlotRange(fromSecond, toSecond);
    const s = await this.#open();
    const replies = await Promise.all(s.prefixes.map((_, shard) => s.run(SLOT_LOAD, shard, [fromSecond, toSecond], false)));
    const counts = new Map<number, number>();
    for (const r of replies) for (let i = 0; i + 1 < r.length; i += 2) counts.set(Number(r[i]), (counts.get(Number(r[i])) ?? 0) + Number(r[i + 1]));
    return [...counts].sort(([x], [y]) => x - y).map(([second, count]) => ({ second, count }));
  }

  async recentBatches(limit: number): Promise<BatchRow[]> {
    checkBatchLimit(limit);
    return recentBatches(await this.#open(), limit);
  }

  async syncCrons(sync: CronSync): Promise<CronSynced[]> {
    return syncCrons(await this.#open(), sync, this.#floor);
  }

  async crons(): Promise<CronRow[]> {
    return listCrons(await this.#open());
  }

  /**
   * Calls `listener(dueMs)` when any process writes a task due at or behind a shard's cursor
   * (a countdown of 0, an eta in the past), so an idle scheduler claims within milliseconds
   * instead of at its next tick. Resolves a function that stops listening.
   */
  async onNudge(listener: (dueMs: number) => void): Promise<() => Promise<void>> {
    const stop = await (await this.#open()).subscribeNudges(listener);
    this.#unsubscribes.add(stop);
    return async () => {
      this.#unsubscribes.delete(stop);
      await stop();
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const stop of [...this.#unsubscribes]) await stop().catch(() => undefined);
    this.#unsubscribes.clear();
    const session = this.#session;
    this.#session = undefined;
    if (session) await (await session.catch(() => undefined))?.close();
  }
}

function errorText(error: unknown): string {
  if (error instanceof AggregateError) return error.errors.map(errorText).join('; ');
  return error instanceof Error ? error.message || error.name : String(error);
}
