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
import { shardOfId, shardOfKey, MAX_SHARDS } from './keys.js';
import { connectTarget, wrapClient, type RedisLink, type UserClient } from './link.js';
import { parseRedisUrl, redact, type RedisTarget } from './url.js';
import { Session } from './session.js';
import { toBatchItems, toBatchRow, toChunk, toMap, toTaskRow, toWorkerRow, CHUNK_BYTES } from './rows.js';
import { checkOutcomes, checkTime, nul, tag } from './values.js';
import { claimAll } from './claim.js';
import { insertAll } from './insert.js';
import { readStats } from './stats.js';
import { CANCEL, RESCHEDULE, RETRY } from './scripts/change.js';
import { RECORD } from './scripts/record.js';
import { HEARTBEAT, PUT_BACK, WORKER_GONE } from './scripts/liveness.js';
import { LIST, RECENT_BATCHES, SLOT_LOAD } from './scripts/reads.js';
import { checkBatchLimit, checkSlotRange } from '../overview.js';
import { listCrons, syncCrons } from './cron.js';
import { BATCH_CHUNK, BATCH_ITEMS, INSERT_BATCH } from './scripts/batches.js';
import { PURGE } from './scripts/purge.js';
import type { NodeDurability } from './durability.js';

export interface RedisStoreOptions {
  /** redis://, rediss:// or redis+cluster:// (see url.ts); or give `client`. */
  url?: string;
  /** A node-redis client or cluster of your own (TLS, Sentinel, ACLs); not closed by close(). */
  client?: UserClient;
  /** Name of the queue: every key starts with {dq:<queue>...}. @default 'delayd' */
  queue?: string;
  /** Shards of a new queue (an existing one keeps its own). @default 16 */
  shards?: number;
  /** Replicas that must confirm each write (WAIT), else E_BACKEND_NOT_REPLICATED. @default 0 */
  replicas?: number;
  /** @default 1000 */
  replicaTimeoutMs?: number;
  /** @default 2000 */
  connectTimeoutMs?: number;
  /** @default 5000 */
  commandTimeoutMs?: number;
  /**
   * How far past Redis TIME a claim may reach, in ms: the scheduler's lookahead plus 1 s. A
   * daemon whose clock runs ahead cannot take tasks early. @default 2000
   */
  claimAheadMs?: number;
  /**
   * Trust the caller's clock (claims are not capped by Redis TIME; `clock` is 'local'): for
   * delayd/testing's fake clock on Redis. @default false
   */
  trustCallerClock?: boolean;
  /** Read appendonly/appendfsync/maxmemory-policy at open and refuse eviction. @default true */
  checkDurability?: boolean;
  /** How long an insert's request id is remembered for a retry, in s. @default 120 */
  requestTtlSec?: number;
  /** Told what the server's durability means, at open. */
  log?: (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void;
}

const PUT_BACK_CHUNK = 500;
const PURGE_CHUNK = 500;
const LIST_SCAN_CAP = 10_000;

export class RedisStore implements Store {
  readonly clock: 'local' | 'backend';
  readonly where: string;
  readonly #o: Required<Omit<RedisStoreOptions, 'url' | 'client' | 'log'>> & Pick<RedisStoreOptions, 'log'>;
  readonly #target: RedisTarget | undefined;
  readonly #client: UserClient | undefined;
  #session: Promise<Session> | undefined;
  #closed = false;
  /** Round robin over shards for inserts without a key. */
  #next = Math.floor(Math.random() * MAX_SHARDS);
  /** The highest task seq seen: ids from this process keep increasing across shards. */
  #floor = 0;

  constructor(options: RedisStoreOptions) {
    if ((options.url === undefined) === (options.client === undefined)) {
      throw new DelaydError('E_BAD_OPTION', 'Expected exactly one of `url` and `client` for a Redis store');
    }
    this.#target = options.url === undefined ? undefined : parseRedisUrl(options.url);
    this.#client = options.client;
    this.where = options.url === undefined ? 'the given Redis client' : redact(options.url);
    const shards = options.shards ?? 16;
    if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
      throw new DelaydError('E_BAD_OPTION', `Expected \`shards\` to be an integer from 1 to ${MAX_SHARDS}, got ${String(shards)}`);
    }
    const replicas = options.replicas ?? 0;
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > 100) {
      throw new DelaydError('E_BAD_OPTION', `Expected \`replicas\` to be an integer from 0 to 100, got ${String(replicas)}`);
    }
    const queue = options.queue ?? 'delayd';
    if (!/^[^{}\s]+$/.test(queue)) throw new DelaydError('E_BAD_OPTION', `Expected \`queue\` to be a name without braces or spaces, got ${JSON.stringify(queue)}`);
    this.#o = {
      queue, shards, replicas,
      replicaTimeoutMs: options.replicaTimeoutMs ?? 1000,
      connectTimeoutMs: options.connectTimeoutMs ?? 2000,
      commandTimeoutMs: options.commandTimeoutMs ?? 5000,
      claimAheadMs: options.claimAheadMs ?? 2000,
      trustCallerClock: options.trustCallerClock ?? false,
      checkDurability: options.checkDurability ?? true,
      requestTtlSec: options.requestTtlSec ?? 120,
      log: options.log,
    };
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
        : wrapClient(this.#client as UserClient, false);
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
    const start = this.#next++ % s.shards;
    const { inserted, floor } = await insertAll(s, tasks, start, this.#floor, this.#o.requestTtlSec);
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
    const s = await this.#open();
    const byShard = new Map<number, number[]>();
    outcomes.forEach((o, i) => {
      const shard = shardOfId(o.id);
      byShard.set(shard, [...(byShard.get(shard) ?? []), i]);
    });
    const applied = new Array<boolean>(outcomes.length).fill(false);
    let earliestDueMs: number | null = null;
    await Promise.all(
      [...byShard].map(async ([shard, indexes]) => {
        if (shard >= s.shards) return;
        const args: (string | number)[] = [indexes.length];
        for (const i of indexes) args.push(...encodeOutcome(outcomes[i] as Outcome));
        const reply = await s.run(RECORD, shard, args, true);
        const due = Number(reply[0]);
        if (due >= 0 && (earliestDueMs === null || due < earliestDueMs)) earliestDueMs = due;
        indexes.forEach((i, k) => (applied[i] = Number(reply[k + 1]) === 1));
      }),
    );
    return { applied, earliestDueMs };
  }

  async release(owner: string): Promise<number> {
    const s = await this.#open();
    await s.command(`${s.meta}workers`, ['HDEL', `${s.meta}workers`, owner], true);
    return this.#putBack(s, owner);
  }

  async bury(owner: string, beat: number | null): Promise<number | null> {
    const s = await this.#open();
    const key = `${s.meta}workers`;
    const gone = await s.command(key, ['EVALSHA', WORKER_GONE.sha, 1, key, owner, beat === null ? '' : beat], true).catch(async (error) => {
      if (!/NOSCRIPT/.test(String((error as Error).message))) throw error;
      return s.command(key, ['EVAL', WORKER_GONE.text, 1, key, owner, beat === null ? '' : beat], true);
    });
    if (Number(gone) !== 1) return null;
    return this.#putBack(s, owner);
  }

  async #putBack(s: Session, owner: string): Promise<number> {
    const counts = await Promise.all(
      s.prefixes.map(async (_, shard) => {
        let total = 0;
        for (;;) {
          const [count, left] = (await s.run(PUT_BACK, shard, [owner, PUT_BACK_CHUNK], true)).map(Number) as [number, number];
          total += count;
          if (left === 0) return total;
        }
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  async heartbeat(worker: Omit<WorkerRow, 'beat' | 'seenMs'>, atMs: number, continuing: boolean): Promise<boolean> {
    const s = await this.#open();
    const key = `${s.meta}workers`;
    const args = [1, key, worker.owner, worker.host, worker.pid, JSON.stringify(worker.names), JSON.stringify(worker.policies ?? {}), worker.startedMs, atMs];
    const beat = await s.command(key, ['EVALSHA', HEARTBEAT.sha, ...args], true).catch(async (error) => {
      if (!/NOSCRIPT/.test(String((error as Error).message))) throw error;
      return s.command(key, ['EVAL', HEARTBEAT.text, ...args], true);
    });
    return !(continuing && Number(beat) === 1);
  }

  async workers(): Promise<WorkerRow[]> {
    const s = await this.#open();
    const flat = (await s.command(`${s.meta}workers`, ['HGETALL', `${s.meta}workers`], false)) as string[];
    return [...toMap(flat)].map(([owner, json]) => toWorkerRow(owner, json)).sort((a, b) => a.startedMs - b.startedMs);
  }

  async orphanOwners(): Promise<string[]> {
    const s = await this.#open();
    const [workers, ...perShard] = await Promise.all([
      s.command(`${s.meta}workers`, ['HKEYS', `${s.meta}workers`], false) as Promise<string[]>,
      ...s.prefixes.map((p) => s.command(`${p}ro`, ['SMEMBERS', `${p}ro`], false) as Promise<string[]>),
    ]);
    const alive = new Set(workers);
    return [...new Set(perShard.flat())].filter((o) => !alive.has(o)).sort();
  }

  async get(id: number): Promise<TaskRow | undefined> {
    const flat = await this.#hash(id, 't');
    return flat === undefined ? undefined : toTaskRow(id, toMap(flat));
  }

  /** The shard of an id this queue could have handed out, or undefined. */
  #shardOf(s: Session, id: number): number | undefined {
    const shard = shardOfId(id);
    return Number.isSafeInteger(id) && id >= 0 && shard < s.shards ? shard : undefined;
  }

  /** HGETALL of the task (t) or batch (b) hash of an id; undefined when there is none. */
  async #hash(id: number, kind: 't' | 'b'): Promise<string[] | undefined> {
    const s = await this.#open();
    const shard = this.#shardOf(s, id);
    if (shard === undefined) return undefined;
    const key = `${s.prefixes[shard]}${kind}:${id}`;
    const flat = (await s.command(key, ['HGETALL', key], false)) as string[];
    return flat.length === 0 ? undefined : flat;
  }

  async list(filter: ListFilter): Promise<TaskRow[]> {
    const s = await this.#open();
    const limit = filter.limit ?? 100;
    if (limit <= 0) return [];
    const replies = await Promise.all(
      s.prefixes.map((_, shard) => s.run(LIST, shard, [filter.state ?? '', filter.name ?? '', limit, LIST_SCAN_CAP, filter.beforeId ?? ''], false)),
    );
    const rows: TaskRow[] = [];
    for (const reply of replies) {
      for (let i = 0; i < reply.length; ) {
        const id = Number(reply[i]);
        const n = Number(reply[i + 1]);
        rows.push(toTaskRow(id, toMap(reply.slice(i + 2, i + 2 + n))));
        i += 2 + n;
      }
    }
    return rows.sort((a, b) => b.id - a.id).slice(0, limit);
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

  async #change(script: typeof CANCEL, id: number, ms: number, what: string): Promise<TaskRow> {
    checkTime(ms, what);
    const s = await this.#open();
    const shard = this.#shardOf(s, id);
    if (shard === undefined) throw new DelaydError('E_NOT_FOUND', `No task with id ${id}`);
    const flat = await s.run(script, shard, [id, ms], true);
    return toTaskRow(id, toMap(flat));
  }

  async purge(finishedBeforeMs: number): Promise<number> {
    const before = Number.isFinite(finishedBeforeMs) ? finishedBeforeMs : finishedBeforeMs > 0 ? Number.MAX_SAFE_INTEGER : 0;
    const s = await this.#open();
    const counts = await Promise.all(
      s.prefixes.map(async (_, shard) => {
        let deleted = 0;
        for (const mode of ['t', 'b']) {
          for (let offset = 0; ; ) {
            const [d, examined, kept] = (await s.run(PURGE, shard, [mode, before, offset, PURGE_CHUNK], true)).map(Number) as [number, number, number];
            deleted += d;
            offset += kept;
            if (examined < PURGE_CHUNK) break;
          }
        }
        return deleted;
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  async insertBatch(batch: NewBatch, items: readonly NewTask[]): Promise<InsertedBatch> {
    checkTime(batch.dueMs, 'the due time of the batch');
    for (const t of items) checkTime(t.dueMs, 'the due time of a batch item');
    const s = await this.#open();
    const shard = batch.key === null ? this.#next++ % s.shards : shardOfKey(batch.key, s.shards);
    const r = batch.reduce;
    const args: (string | number)[] = [
      this.#floor, batch.name, tag(batch.key), batch.createdMs, batch.dueMs, r?.name ?? '', nul(r?.retries ?? null),
      nul(r?.backoffMs ?? null), nul(r?.timeoutMs ?? null), items.length,
    ];
    for (const t of items) args.push(t.args, t.dueMs, t.createdMs, nul(t.retries), nul(t.backoffMs), nul(t.timeoutMs));
    const reply = await s.runOnce(INSERT_BATCH, shard, (rq) => [...args, rq, this.#o.requestTtlSec]);
    const [id, total, created, last] = reply.map(Number) as [number, number, number, number];
    if (created === 1) this.#floor = Math.max(this.#floor, last);
    return { id, total, created: created === 1 };
  }

  async getBatch(id: number): Promise<BatchRow | undefined> {
    const flat = await this.#hash(id, 'b');
    return flat === undefined ? undefined : toBatchRow(id, toMap(flat));
  }

  async batchChunks(id: number, chunk?: number): Promise<Chunk[]> {
    const s = await this.#open();
    const shard = this.#shardOf(s, id);
    if (shard === undefined) return [];
    const read = async (c: number) => (await s.run(BATCH_CHUNK, shard, [id, c], false)).map(String);
    const [total, done, ok, length] = await read(chunk ?? 0);
    if (total === '' || total === undefined) return [];
    const count = Math.ceil(Number(length) / CHUNK_BYTES);
    const first = toChunk(chunk ?? 0, Number(total), Buffer.from(done ?? '', 'hex'), Buffer.from(ok ?? '', 'hex'));
    if (chunk !== undefined) return chunk < count ? [first] : [];
    const rest = await Promise.all(
      Array.from({ length: Math.max(0, count - 1) }, async (_, i) => {
        const [, d, o] = await read(i + 1);
        return toChunk(i + 1, Number(total), Buffer.from(d ?? '', 'hex'), Buffer.from(o ?? '', 'hex'));
      }),
    );
    return count === 0 ? [] : [first, ...rest];
  }

  async batchItems(id: number, fromIndex: number, limit: number): Promise<BatchItemRow[]> {
    const s = await this.#open();
    const shard = this.#shardOf(s, id);
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
    const s = await this.#open();
    const replies = await Promise.all(s.prefixes.map((_, shard) => s.run(RECENT_BATCHES, shard, [limit], false)));
    const rows: BatchRow[] = [];
    for (const r of replies) {
      for (let i = 0; i < r.length; ) {
        const n = Number(r[i + 1]);
        if (n > 0) rows.push(toBatchRow(Number(r[i]), toMap(r.slice(i + 2, i + 2 + n))));
        i += 2 + n;
      }
    }
    return rows.sort((a, b) => b.id - a.id).slice(0, limit);
  }

  async syncCrons(sync: CronSync): Promise<CronSynced[]> {
    return syncCrons(await this.#open(), sync, this.#floor);
  }

  async crons(): Promise<CronRow[]> {
    return listCrons(await this.#open());
  }

  async close(): Promise<void> {
    this.#closed = true;
    const session = this.#session;
    this.#session = undefined;
    if (session) await (await session.catch(() => undefined))?.close();
  }
}

function encodeOutcome(o: Outcome): (string | number)[] {
  const base = [o.id, o.owner, o.attempt, o.atMs];
  switch (o.kind) {
    case 'started': {
      const x = o.next;
      const next = x === undefined ? '' : JSON.stringify({ n: x.name, a: x.args, d: x.dueMs, c: x.createdMs, k: x.key, r: x.retries, b: x.backoffMs, o: x.timeoutMs });
      return ['s', ...base, next, '', '', ''];
    }
    case 'succeeded':
      return ['ok', ...base, tag(o.result), '', '', ''];
    case 'failed':
    case 'retry': {
      const e = o.error;
      const json = JSON.stringify({ attempt: o.attempt, atMs: o.atMs, code: e.code, message: e.message, stack: e.stack, error: e.stack });
      return [o.kind === 'failed' ? 'f' : 'r', ...base, o.kind === 'retry' ? o.dueMs : '', json, e.stack, tag(e.code)];
    }
  }
}

function errorText(error: unknown): string {
  if (error instanceof AggregateError) return error.errors.map(errorText).join('; ');
  return error instanceof Error ? error.message || error.name : String(error);
}
