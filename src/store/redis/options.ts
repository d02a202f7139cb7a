/** The Redis store's options, with their defaults, checked once when the store is made. */
import { DelaydError } from '../../errors.js';
import { MAX_SHARDS } from './keys.js';
import type { UserClient } from './link.js';

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
  /**
   * How long an insert's request id (and its reply) is remembered for a retry, in s: longer
   * than the store's own retry window (10 s); each costs ~100 bytes while it lives. @default 30
   */
  requestTtlSec?: number;
  /** Told what the server's durability means, at open. */
  log?: (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void;
}

export type ResolvedRedisOptions = Required<Omit<RedisStoreOptions, 'url' | 'client' | 'log'>> & Pick<RedisStoreOptions, 'log'>;

export function resolveRedisOptions(options: RedisStoreOptions): ResolvedRedisOptions {
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
  return {
    queue, shards, replicas,
    replicaTimeoutMs: options.replicaTimeoutMs ?? 1000,
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
    commandTimeoutMs: options.commandTimeoutMs ?? 5000,
    claimAheadMs: options.claimAheadMs ?? 2000,
    trustCallerClock: options.trustCallerClock ?? false,
    checkDurability: options.checkDurability ?? true,
    requestTtlSec: options.requestTtlSec ?? 30,
    log: options.log,
  };
}
