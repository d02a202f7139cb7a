/**
 * Helpers of the staged-write tests (stage.test.ts, spread.test.ts): a store, a session and a
 * plain client on a queue of their own; a session whose script calls can crash (not sent, not
 * retried), lose their reply (sent, retried by runOnce) or wait at a gate; the keys of a
 * shard; and aging every stage and decision, as a later upkeep's clock would see them.
 */
import { onTestFinished } from 'vitest';
import { createClient } from 'redis';
import { DelaydError } from '../../src/errors.js';
import { RedisStore } from '../../src/store/redis/index.js';
import { connectTarget, type LuaScript } from '../../src/store/redis/link.js';
import { parseRedisUrl } from '../../src/store/redis/url.js';
import { Session } from '../../src/store/redis/session.js';
import { shardPrefix } from '../../src/store/redis/keys.js';
import type { NewBatch, NewTask } from '../../src/store/types.js';
import { task, T0, DAY_MS } from '../contract/fixtures.js';

let q = 0;
export const SHARDS = 4;
const client = (url: string) => createClient({ url });
export type Raw = ReturnType<typeof client>;

/** A store, a session and a plain client on a queue of their own, closed when the test ends. */
export async function open(url: string): Promise<{ queue: string; store: RedisStore; s: Session; raw: Raw }> {
  const queue = `st${q++}`;
  const link = await connectTarget(parseRedisUrl(url), { connectTimeoutMs: 2000, commandTimeoutMs: 5000 });
  const s = await Session.open(link, { queue, shards: SHARDS, replicas: 0, replicaTimeoutMs: 1000, where: 'test', checkDurability: false });
  const store = new RedisStore({ url, queue, shards: SHARDS, trustCallerClock: true, checkDurability: false });
  const raw = client(url);
  await raw.connect();
  const close = async () => {
    await store.close();
    await s.close();
    await raw.quit();
  };
  onTestFinished(close);
  return { queue, store, s, raw };
}

/**
 * What a script call does: run normally, fail before running (a crash, not retried), run and
 * lose the reply (retried), or not be sent for want of a connection (retried: it comes after
 * the calls sent meanwhile).
 */
type Fate = 'run' | 'crash' | 'lose' | 'unsent';
class TimeoutError extends Error {}
class ClientOfflineError extends Error {}

/** The session with `fate(script, nth call of that script)` deciding each script call; awaits `gate` first when given. */
export function wrap(real: Session, fate: (script: LuaScript, n: number) => Fate, gate?: (script: LuaScript, n: number) => Promise<void>): Session {
  const calls = new Map<string, number>();
  const s = Object.create(real) as Session;
  Object.defineProperty(s, 'command', { value: real.command.bind(real) });
  Object.defineProperty(s, 'run', {
    value: async (script: LuaScript, shard: number, args: readonly (string | number)[], write: boolean) => {
      const n = (calls.get(script.name) ?? 0) + 1;
      calls.set(script.name, n);
      await gate?.(script, n);
      const f = fate(script, n);
      if (f === 'crash') throw new DelaydError('E_BACKEND_UNAVAILABLE', `test: the producer died before ${script.name} #${n}`);
      if (f === 'unsent') throw new DelaydError('E_BACKEND_UNAVAILABLE', `test: ${script.name} #${n} not sent`, { cause: new ClientOfflineError('offline') });
      const reply = await real.run(script, shard, args, write);
      if (f === 'lose') throw new DelaydError('E_BACKEND_UNKNOWN_OUTCOME', `test: reply of ${script.name} #${n} lost`, { cause: new TimeoutError('lost') });
      return reply;
    },
  });
  return s;
}

export const many = (n: number, extra: (i: number) => Partial<NewTask> = () => ({})): NewTask[] =>
  Array.from({ length: n }, (_, i) => task('work', T0 + DAY_MS + (i % 3000) * 1000, { args: JSON.stringify([i, 'x'.repeat(40)]), ...extra(i) }));
export const BATCH: NewBatch = { name: 'work', key: null, createdMs: T0, dueMs: T0 + DAY_MS, reduce: { name: 'sum', retries: null, backoffMs: null, timeoutMs: null } };

/** Every key of the queue's shard (default 0; 'all': every shard) whose name starts with `kind` (sg:, sgi:, t: ...). */
export async function keys(raw: Raw, queue: string, kind: string, shard: number | 'all' = 0): Promise<string[]> {
  if (shard === 'all') return (await Promise.all(Array.from({ length: SHARDS }, (_, n) => keys(raw, queue, kind, n)))).flat();
  return raw.keys(`${shardPrefix(queue, shard)}${kind}*`);
}

/** Makes every stage and decision look abandoned (its last step long ago), as the clock of a later upkeep would see it. */
export async function age(raw: Raw, queue: string): Promise<void> {
  for (let n = 0; n < SHARDS; n++) {
    for (const index of ['sgs', 'sds']) {
      const key = `${shardPrefix(queue, n)}${index}`;
      for (const sid of await raw.zRange(key, 0, -1)) await raw.zAdd(key, { score: 0, value: sid });
    }
  }
}


/**
 * Every key of a queue's shard (request ids and staged replies left out) with its type and
 * contents, the prefix cut off: two queues written the same way dump the same.
 */
export async function dump(raw: Raw, queue: string, shard = 0): Promise<Record<string, unknown>> {
  const prefix = shardPrefix(queue, shard);
  const out: Record<string, unknown> = {};
  for (const key of (await raw.keys(`${prefix}*`)).sort()) {
    const name = key.slice(prefix.length);
    if (/^(rq|sr):/.test(name)) continue;
    const type = await raw.type(key);
    if (type === 'string') out[name] = await raw.get(key);
    else if (type === 'hash') out[name] = Object.fromEntries(Object.entries(await raw.hGetAll(key)).sort());
    else if (type === 'zset') out[name] = await raw.zRangeWithScores(key, 0, -1);
    else if (type === 'list') out[name] = await raw.lRange(key, 0, -1);
    else out[name] = { type };
  }
  return out;
}
