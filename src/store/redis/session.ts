/**
 * A connected Redis store's session: the link, the queue's shard count (fixed at creation in
 * {dq:Q}:meta), and the one way every operation reaches Redis (`run`): the script on the
 * shard's node, its errors mapped to DelaydErrors, a write followed by WAIT when `replicas` is
 * set, and a write whose reply never came retried only when it carries a request id.
 */
import { randomUUID } from 'node:crypto';
import { DelaydError } from '../../errors.js';
import { checkDurability, MEANING, readDurability, type NodeDurability } from './durability.js';
import { isConnectionError, isNoReply, toDelaydError } from './errors.js';
import { readOtherLibraries } from './functions.js';
import { MAX_SHARDS, queuePrefix, shardPrefix } from './keys.js';
import type { Arg, LuaScript, RedisLink } from './link.js';

export interface SessionOptions {
  queue: string;
  shards: number;
  replicas: number;
  replicaTimeoutMs: number;
  /** Where the store is, for messages. */
  where: string;
  checkDurability: boolean;
  log?: ((level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void) | undefined;
}

export class Session {
  readonly shards: number;
  readonly prefixes: string[];
  readonly meta: string;
  readonly durability: NodeDurability[];
  readonly #link: RedisLink;
  readonly #o: SessionOptions;

  private constructor(link: RedisLink, o: SessionOptions, shards: number, durability: NodeDurability[]) {
    this.#link = link;
    this.#o = o;
    this.shards = shards;
    this.meta = queuePrefix(o.queue);
    this.prefixes = Array.from({ length: shards }, (_, n) => shardPrefix(o.queue, n));
    this.durability = durability;
  }

  static async open(link: RedisLink, o: SessionOptions): Promise<Session> {
    try {
      // One round trip at open, not two: the two reads go together.
      const [durability, others] = o.checkDurability ? await Promise.all([readDurability(link), readOtherLibraries(link)]) : [[], []];
      checkDurability(durability);
      for (const n of durability) {
        o.log?.(n.mode === 'memory' || n.mode === 'unknown' ? 'warn' : 'info', `Redis ${n.node}: ${MEANING[n.mode]}`, {
          node: n.node, durability: n.mode, maxmemoryPolicy: n.maxmemoryPolicy,
        });
      }
      for (const { node, names } of others) {
        const what = `the functions of ${names.length} other delayd version(s), about 240 KB each, kept until deleted`;
        o.log?.('info', `Redis ${node}: holds ${what}; once no delayd of that version runs, delete each with FUNCTION DELETE <name> (${names.join(', ')})`, {
          node, libraries: names,
        });
      }
      const meta = `${queuePrefix(o.queue)}meta`;
      // Read first: a full Redis (maxmemory, noeviction) refuses every write, even one that
      // changes nothing, and an operator must still be able to look at it.
      let stored = await link.command(meta, ['HGET', meta, 'shards']);
      if (stored === null || stored === undefined) {
        await link.command(meta, ['HSETNX', meta, 'shards', o.shards]);
        await link.command(meta, ['HSETNX', meta, 'version', 1]);
        stored = await link.command(meta, ['HGET', meta, 'shards']);
      }
      const shards = Number(stored);
      if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
        throw new DelaydError('E_DB_NOT_DELAYD', `Expected ${meta} to hold a shard count from 1 to ${MAX_SHARDS}, got ${shards}`);
      }
      if (shards !== o.shards) {
        o.log?.('info', `queue ${o.queue} was created with ${shards} shards; using them (shards are fixed at creation)`, { shards });
      }
      return new Session(link, o, shards, durability);
    } catch (error) {
      throw toDelaydError(error, o.where, false);
    }
  }

  get cluster(): boolean {
    return this.#link.cluster;
  }

  /** A script on shard `shard`; `write` decides WAIT and what a lost reply means. */
  async run(script: LuaScript, shard: number, args: readonly Arg[], write: boolean): Promise<unknown[]> {
    const prefix = this.prefixes[shard] as string;
    return (await this.script(script, `${prefix}cur`, [prefix, shard, ...args], write, `shard ${shard}`)) as unknown[];
  }

  /** A script on the node holding `key` (KEYS[1]), with `args` as its ARGV. */
  async script(script: LuaScript, key: string, args: readonly Arg[], write: boolean, where = key): Promise<unknown> {
    try {
      const reply = await this.#link.script(script, key, args);
      if (write) await this.#replicate(key);
      return reply;
    } catch (error) {
      throw toDelaydError(error, `${this.#o.where}, ${script.name} on ${where}`, write);
    }
  }

  /**
   * A write carrying a request id (its script returns the stored reply when it ran before):
   * retried, on a lost reply or a lost connection, until the retry window closes.
   */
  async runOnce(script: LuaScript, shard: number, args: (requestId: string) => readonly Arg[], windowMs = 10_000): Promise<unknown[]> {
    const requestId = randomUUID();
    const deadline = Date.now() + windowMs;
    let lostReply = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.run(script, shard, args(requestId), true);
      } catch (error) {
        const cause = (error as DelaydError).cause;
        if (!isNoReply(cause) && !isConnectionError(cause)) throw error;
        lostReply ||= isNoReply(cause);
        if (Date.now() + 100 > deadline) {
          if (!lostReply) throw error;
          throw new DelaydError(
            'E_BACKEND_UNKNOWN_OUTCOME',
            `No reply from Redis (${this.#o.where}) to an insert after ${attempt + 1} tries over ${windowMs} ms: it may or may not have been written (request ${requestId})`,
            { cause },
          );
        }
        await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
      }
    }
  }

  async command(key: string | undefined, args: readonly Arg[], write: boolean): Promise<unknown> {
    try {
      const reply = await this.#link.command(key, args);
      if (write && key !== undefined) await this.#replicate(key);
      return reply;
    } catch (error) {
      throw toDelaydError(error, `${this.#o.where}, ${String(args[0])}`, write);
    }
  }

  async #replicate(key: string): Promise<void> {
    const { replicas, replicaTimeoutMs } = this.#o;
    if (replicas === 0) return;
    // WAIT blocks up to its timeout by design: its reply's deadline is that much longer.
    const acked = Number(await this.#link.command(key, ['WAIT', replicas, replicaTimeoutMs], replicaTimeoutMs));
    if (acked < replicas) {
      throw new DelaydError(
        'E_BACKEND_NOT_REPLICATED',
        `Expected ${replicas} replica(s) of ${this.#o.where} to confirm a write within ${replicaTimeoutMs} ms, got ${acked}: the write is on the master but may be lost by a failover`,
      );
    }
  }

  /** Calls `listener` with the due ms of tasks written at or behind a shard's cursor (the insert script's SPUBLISH). */
  async subscribeNudges(listener: (dueMs: number) => void): Promise<() => Promise<void>> {
    try {
      return await this.#link.subscribe(this.prefixes.map((p) => `${p}nudge`), (message) => listener(Number(message)));
    } catch (error) {
      throw toDelaydError(error, `${this.#o.where}, subscribing to nudges`, false);
    }
  }

  close(): Promise<void> {
    return this.#link.close();
  }
}
