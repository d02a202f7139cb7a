/**
 * The small adapter between the store and a Redis client: scripts and commands routed by key,
 * the masters (for the durability check), close. node-redis (the `redis` package, an optional
 * peer) is imported only when a Redis store first connects, so SQLite users need not install it;
 * a user may also hand in a node-redis client or cluster of their own (TLS, Sentinel, ACLs).
 */
import { DelaydError } from '../../errors.js';
import { Deadlines, within } from './deadline.js';
import { isLoadedAlready, isMissingFunction, library, LuaScript } from './functions.js';
import { watchedSubscriber } from './subscriber.js';
import type { RedisTarget } from './url.js';

export { LuaScript };

export type Arg = string | number;

export interface RedisLink {
  /** Runs `script` on the node holding `key` (FCALL; the library loaded first when the node lacks it). */
  script(script: LuaScript, key: string, args: readonly Arg[]): Promise<unknown>;
  /** One command on the node holding `key` (undefined: any node); `extraMs` more to wait for its reply. */
  command(key: string | undefined, args: readonly Arg[], extraMs?: number): Promise<unknown>;
  /** Runs a command on every master; replies in master order. */
  onMasters(args: readonly Arg[]): Promise<{ node: string; reply: unknown }[]>;
  /** Sharded pub/sub (SSUBSCRIBE) on its own connection; resolves a function that ends it. */
  subscribe(channels: readonly string[], listener: (message: string) => void): Promise<() => Promise<void>>;
  readonly cluster: boolean;
  close(): Promise<void>;
}

/** The subset of node-redis's client and cluster that the adapter uses. */
interface NodeRedisClient {
  isOpen: boolean;
  duplicate(): NodeRedisClient;
  sSubscribe(channels: string[], listener: (message: string) => void): Promise<void>;
  connect(): Promise<unknown>;
  sendCommand(args: readonly string[], options?: unknown): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  on(event: string, fn: (...args: unknown[]) => void): unknown;
  options?: { socket?: { host?: string; port?: number } };
}

interface NodeRedisCluster {
  isOpen: boolean;
  duplicate(): NodeRedisCluster;
  sSubscribe(channels: string[], listener: (message: string) => void): Promise<void>;
  sUnsubscribe(channels: string[], listener: (message: string) => void): Promise<void>;
  connect(): Promise<unknown>;
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: readonly string[], options?: unknown): Promise<unknown>;
  masters: { host: string; port: number }[];
  nodeClient(node: unknown): Promise<NodeRedisClient> | NodeRedisClient;
  close(): Promise<void>;
  destroy(): void;
  on(event: string, fn: (...args: unknown[]) => void): unknown;
}

export type UserClient = NodeRedisClient | NodeRedisCluster;

export interface LinkOptions {
  /** Bound on establishing a connection. @default 2000 */
  connectTimeoutMs: number;
  /** Bound on one command's reply (deadline.ts). @default 5000 */
  commandTimeoutMs: number;
}

/** One channel a call: each lives in its own hash slot (SSUBSCRIBE of several is CROSSSLOT). */
async function clusterSubscribe(cluster: NodeRedisCluster, channels: readonly string[], listener: (message: string) => void): Promise<void> {
  await Promise.all(channels.map((c) => cluster.sSubscribe([c], listener)));
}

function isCluster(client: UserClient): client is NodeRedisCluster {
  return 'masters' in client && 'nodeClient' in client;
}

async function importRedis(): Promise<typeof import('redis')> {
  try {
    return await import('redis');
  } catch (error) {
    throw new DelaydError(
      'E_MISSING_DEPENDENCY',
      'A redis:// db needs the `redis` package (node-redis 6), an optional peer of delayd: npm install redis@^6',
      { cause: error },
    );
  }
}

/** Opens node-redis for a parsed target; resolves once connected, or rejects within the connect timeout. */
export async function connectTarget(target: RedisTarget, options: LinkOptions): Promise<RedisLink> {
  const redis = await importRedis();
  let connected = false;
  // Before the first connection a refusal fails at once (no server: E_BACKEND_UNAVAILABLE,
  // promptly); after it, reconnect with a capped backoff while commands time out on their own.
  const reconnectStrategy = (retries: number, cause: Error) => (connected ? Math.min(50 * 2 ** retries, 1000) : cause);
  const socket = { connectTimeout: options.connectTimeoutMs, reconnectStrategy, tls: target.tls || undefined };
  const auth = { username: target.username, password: target.password };
  let client: UserClient;
  if (target.kind === 'single') {
    const node = target.nodes[0]!;
    client = redis.createClient({
      // node-redis's own `timeout` off (0; its default is 5 s): Deadlines bounds every reply
      // from the moment it is asked for (its offline wait too), and a single client it gives
      // up on is replaced, which rejects what was still queued. node-redis's costs an
      // AbortSignal.timeout, a timer and listeners per command (about 2 KB a command).
      ...auth, RESP: 2, database: target.database, commandOptions: { timeout: 0 },
      socket: { ...socket, host: node.host, port: node.port } as never,
    }) as unknown as NodeRedisClient;
  } else {
    client = redis.createCluster({
      // node-redis's own timeout kept here: a silent cluster is replaced only once a fresh one
      // has connected (wrapClient), and until then a command that waited unsent for a node past
      // its deadline must not be sent after all.
      RESP: 2, commandOptions: { timeout: options.commandTimeoutMs },
      rootNodes: target.nodes.map((n) => ({ socket: { host: n.host, port: n.port } as never })),
      defaults: { ...auth, socket: socket as never },
    } as never) as unknown as NodeRedisCluster;
  }
  // node-redis emits 'error' on every failed (re)connect; without a listener Node would throw.
  client.on('error', () => undefined);
  const timer = new Promise<never>((_, reject) => {
    const t = setTimeout(() => reject(new Error(`no connection within ${options.connectTimeoutMs * 2} ms`)), options.connectTimeoutMs * 2);
    t.unref();
  });
  try {
    await Promise.race([client.connect(), timer]);
  } catch (error) {
    try {
      client.destroy();
    } catch {
      /* never opened */
    }
    throw error;
  }
  connected = true;
  return wrapClient(client, true, options.commandTimeoutMs);
}

/**
 * An adapter over a client (connected or not), closed by close() only if `owned`. Every reply
 * is bounded by `replyTimeoutMs` (deadline.ts); when one does not come, a client we own is
 * replaced by a fresh one (its pending commands rejected, as on a reset), at most once per
 * `replyTimeoutMs`. A cluster's fresh client finds the slots anew: a master frozen rather than
 * killed keeps its connections open and silent, so node-redis alone never learns of the
 * failover and sends its shards' commands there until it wakes. A user's own client is kept:
 * its commands are rejected, and it reconnects by its own rules.
 */
export function wrapClient(client: UserClient, owned: boolean, replyTimeoutMs = 5000): RedisLink {
  let current = client;
  /** A cluster's nudge subscriptions, made again on a fresh cluster client. */
  const clusterSubs = new Set<{ channels: readonly string[]; listener: (message: string) => void }>();
  let lastRenewMs = Number.NEGATIVE_INFINITY;
  let renewing = false;
  let closed = false;
  const renew = (): void => {
    if (!owned || renewing || performance.now() - lastRenewMs < replyTimeoutMs) return;
    lastRenewMs = performance.now();
    const old = current;
    const fresh = old.duplicate();
    fresh.on('error', () => undefined);
    if (!isCluster(fresh)) {
      current = fresh;
      // Commands sent meanwhile wait in its offline queue, each under its deadline.
      fresh.connect().catch(() => undefined);
      old.destroy();
      return;
    }
    // A cluster client takes commands only once connected: the old one serves until then. Its
    // connect is bounded: one begun before a failover may wait on the frozen master for good.
    renewing = true;
    within(fresh.connect(), Math.max(2000, 2 * replyTimeoutMs), 'a new cluster connection').then(
      () => {
        // Closed meanwhile: the fresh one must not outlive the link (its sockets keep Node up).
        if (closed) return fresh.destroy();
        current = fresh;
        old.destroy();
        // Not awaited: one to a node still silent would never answer, and hold up the next renew.
        for (const sub of clusterSubs) clusterSubscribe(fresh, sub.channels, sub.listener).catch(() => undefined);
      },
      () => fresh.destroy(),
    ).finally(() => (renewing = false));
  };
  const deadlines = new Deadlines(replyTimeoutMs, () => performance.now(), renew);
  const watchdog = setInterval(() => deadlines.check(), Math.min(1000, Math.max(25, replyTimeoutMs / 4)));
  watchdog.unref();
  const run = (key: string | undefined, args: readonly string[], extraMs = 0) =>
    deadlines.bound(() => {
      const c = current;
      return isCluster(c) ? c.sendCommand(key, false, args) : c.sendCommand(args);
    }, extraMs);
  const strings = (args: readonly Arg[]) => args.map(String);
  return {
    cluster: isCluster(client),
    async script(script, key, args) {
      const call = ['FCALL', script.fn, '1', key, ...strings(args)];
      try {
        return await run(key, call);
      } catch (error) {
        if (!isMissingFunction(error)) throw error;
        try {
          await run(key, ['FUNCTION', 'LOAD', library().text]);
        } catch (load) {
          if (!isLoadedAlready(load)) return run(key, ['EVAL', script.standalone, '1', key, ...strings(args)]);
        }
        return run(key, call);
      }
    },
    command(key, args, extraMs) {
      return run(key, strings(args), extraMs);
    },
    async onMasters(args) {
      const c = current;
      if (!isCluster(c)) {
        return [{ node: `${c.options?.socket?.host ?? '?'}:${c.options?.socket?.port ?? '?'}`, reply: await run(undefined, strings(args)) }];
      }
      return Promise.all(
        c.masters.map(async (m) => {
          const node = await c.nodeClient(m);
          return { node: `${m.host}:${m.port}`, reply: await deadlines.bound(() => node.sendCommand(strings(args))) };
        }),
      );
    },
    async subscribe(channels, listener) {
      if (isCluster(current)) {
        await clusterSubscribe(current, channels, listener);
        const sub = { channels, listener };
        clusterSubs.add(sub);
        return async () => {
          clusterSubs.delete(sub);
          const c = current as NodeRedisCluster;
          await Promise.all(channels.map((ch) => c.sUnsubscribe([ch], listener)));
        };
      }
      // Not a cluster, so neither is any client `current` becomes (renew duplicates it).
      return watchedSubscriber(() => (current as NodeRedisClient).duplicate(), channels, listener, replyTimeoutMs);
    },
    async close() {
      closed = true;
      clearInterval(watchdog);
      if (!owned) return;
      try {
        if (current.isOpen) await current.close();
      } catch {
        current.destroy();
      }
    },
  };
}
