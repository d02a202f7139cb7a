/**
 * What only the Redis backend has: errors mapped from real server replies, the durability
 * check at open, request ids that keep a retried insert single, bitmaps in Redis's own bit
 * order, and a tick whose cost does not grow with what is pending (counted in commands Redis
 * ran, not timed).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { RedisStore } from '../../src/store/redis/index.js';
import { shardPrefix } from '../../src/store/redis/keys.js';
import { CLAIM } from '../../src/store/redis/scripts/claim.js';
import { statusIn } from '../../src/bits.js';
import { rawCommand, startRedis, stopAllRedis } from './servers.js';
import { task, T0, S0, DAY_MS } from '../contract/fixtures.js';

afterAll(stopAllRedis, 30_000);

let q = 0;
const store = (url: string, extra: Partial<ConstructorParameters<typeof RedisStore>[0]> = {}) =>
  new RedisStore({ url, queue: `b${q++}`, shards: 4, trustCallerClock: true, ...extra });

async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'no error';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe('errors from real server replies', () => {
  it('no server: E_BACKEND_UNAVAILABLE within the connect timeout, and again on the next call', async () => {
    const s = new RedisStore({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 500 });
    const started = Date.now();
    await expect(s.insert([task('a', T0)])).rejects.toMatchObject({ code: 'E_BACKEND_UNAVAILABLE', message: expect.stringContaining('127.0.0.1:1') });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await codeOf(() => s.get(1))).toBe('E_BACKEND_UNAVAILABLE');
    await s.close();
  });

  it('a replica: E_BACKEND_READONLY, with the server\'s error as cause', async () => {
    const master = await startRedis();
    const replica = await startRedis({ extraArgs: ['--replicaof', '127.0.0.1', String(master.port)] });
    const s = store(replica.url);
    const error = await s.insert([task('a', T0)]).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'DelaydError', code: 'E_BACKEND_READONLY' });
    expect(String((error as Error & { cause: Error }).cause.message)).toMatch(/^READONLY/);
    await s.close();
  });

  it('out of memory with noeviction: E_BACKEND_FULL, and a refused call leaves nothing half-written', async () => {
    const r = await startRedis({ maxmemory: '3mb' });
    const s = store(r.url, { shards: 1 });
    let accepted = 0;
    let full: unknown;
    for (let i = 0; i < 2000 && !full; i++) {
      try {
        await s.insert(Array.from({ length: 100 }, (_, k) => task('fill', T0 + DAY_MS + k, { args: JSON.stringify(['x'.repeat(200)]) })));
        accepted += 100;
      } catch (error) {
        full = error;
      }
    }
    expect(full).toMatchObject({ code: 'E_BACKEND_FULL' });
    expect(accepted).toBeGreaterThan(0);
    // Every accepted task, and only those: counters, the id index and the ring agree.
    const stats = await s.stats();
    expect(stats.counts.scheduled).toBe(accepted);
    const p = shardPrefix(`b${q - 1}`, 0);
    expect(await rawCommand(r.port, ['EVAL', "return #redis.call('KEYS', ARGV[1])", '0', `${p}t:*`])).toBe(`:${accepted}\r\n`);
    expect((await s.list({ state: 'scheduled', limit: 10 })).length).toBe(10);
    expect(await rawCommand(r.port, ['GET', `${p}seq`])).toBe(`$${String(accepted).length}\r\n${accepted}\r\n`);
    await s.close();
  }, 60_000);

  it('refuses an eviction policy at open with E_BACKEND_CONFIG, naming the fix', async () => {
    const r = await startRedis({ maxmemoryPolicy: 'allkeys-lru' });
    const s = store(r.url);
    await expect(s.insert([task('a', T0)])).rejects.toMatchObject({
      code: 'E_BACKEND_CONFIG', message: expect.stringMatching(/maxmemory-policy noeviction, got allkeys-lru/),
    });
    await s.close();
  });

  it('maps a script\'s own refusal to its code, with nothing changed', async () => {
    const r = await startRedis();
    const s = store(r.url);
    const [t] = await s.insert([task('a', T0)]);
    await expect(s.retry(t!.id, T0)).rejects.toMatchObject({ code: 'E_BAD_STATE', message: `Cannot retry task ${t!.id}: expected it to be failed, but it is scheduled` });
    await expect(s.cancel(t!.id + 1024 * 1000, T0)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    await s.close();
  });
});

describe('the functions library (functions.ts)', () => {
  const libraries = async (port: number) => (await rawCommand(port, ['FUNCTION', 'LIST'])).match(/delayd_[0-9a-f]{12}/g) ?? [];

  it('is loaded once by the first call, and again by the next call on a node that lost it', async () => {
    const r = await startRedis();
    const s = store(r.url, { shards: 1 });
    await s.insert([task('a', T0)]);
    expect(await libraries(r.port)).toHaveLength(1);
    expect(await rawCommand(r.port, ['FUNCTION', 'FLUSH'])).toBe('+OK\r\n');
    await s.insert([task('b', T0)]);
    expect((await s.stats()).counts.scheduled).toBe(2);
    expect(await libraries(r.port)).toHaveLength(1);
    await s.close();
  });

  it('on a full Redis that lacks it (FUNCTION LOAD refused), reads still answer and writes are refused with E_BACKEND_FULL', async () => {
    const r = await startRedis();
    const s = store(r.url, { shards: 1 });
    await s.insert(Array.from({ length: 300 }, (_, k) => task('fill', T0 + DAY_MS + k)));
    await s.close();
    // As a new delayd version would find a full Redis: its library not there, no room to load it.
    await rawCommand(r.port, ['FUNCTION', 'FLUSH']);
    await rawCommand(r.port, ['CONFIG', 'SET', 'maxmemory', '1']);
    expect(await rawCommand(r.port, ['FUNCTION', 'LOAD', '#!lua name=probe\nredis.register_function("probe", function() return 1 end)'])).toMatch(/^-OOM/);
    const later = new RedisStore({ url: r.url, queue: `b${q - 1}`, shards: 1, trustCallerClock: true });
    expect((await later.stats()).counts.scheduled).toBe(300);
    expect(await later.list({ state: 'scheduled', limit: 3 })).toHaveLength(3);
    expect(await codeOf(() => later.insert([task('one more', T0)]))).toBe('E_BACKEND_FULL');
    expect((await later.stats()).counts.scheduled).toBe(300);
    expect(await libraries(r.port)).toHaveLength(0);
    await later.close();
  });
});

describe('replicas', () => {
  it('waits for n replicas on every write, and says E_BACKEND_NOT_REPLICATED when they do not confirm', async () => {
    const master = await startRedis();
    const lone = await startRedis();
    const replica = await startRedis({ extraArgs: ['--replicaof', '127.0.0.1', String(master.port)] });
    // The replica must have finished its first sync before a write can be confirmed by it.
    for (const deadline = Date.now() + 20_000; !/master_link_status:up/.test(await rawCommand(replica.port, ['INFO', 'replication'])); ) {
      if (Date.now() > deadline) throw new Error('the replica did not finish its first sync within 20 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const replicated = store(master.url, { replicas: 1, replicaTimeoutMs: 5000 });
    const [t] = await replicated.insert([task('a', T0)]);
    expect(await replicated.get(t!.id)).toMatchObject({ state: 'scheduled' });
    await replicated.close();
    const unreplicated = store(lone.url, { replicas: 1, replicaTimeoutMs: 100 });
    await expect(unreplicated.insert([task('a', T0)])).rejects.toMatchObject({
      code: 'E_BACKEND_NOT_REPLICATED', message: expect.stringMatching(/Expected 1 replica\(s\) .* to confirm a write within 100 ms, got 0/),
    });
    await unreplicated.close();
  }, 40_000);
});

describe('durability at open', () => {
  it.each([
    [{}, 'memory', 'warn', /a Redis restart loses every task/],
    [{ appendonly: true, appendfsync: 'everysec' as const }, 'aof-everysec', 'info', /about the last second/],
    [{ appendonly: true, appendfsync: 'always' as const }, 'aof-always', 'info', /nothing acknowledged is lost/],
  ])('logs what the server promises (%o)', async (options, mode, level, meaning) => {
    const r = await startRedis(options);
    const logged: unknown[] = [];
    const s = store(r.url, { log: (lvl, message, fields) => logged.push({ lvl, message, fields }) });
    expect(await s.durability()).toEqual([{ node: `127.0.0.1:${r.port}`, mode, maxmemoryPolicy: 'noeviction' }]);
    expect(logged).toEqual([{ lvl: level, message: expect.stringMatching(meaning), fields: expect.objectContaining({ durability: mode }) }]);
    await s.close();
  });
});

describe('request ids', () => {
  it('a retried insert whose reply was lost creates nothing twice', async () => {
    const r = await startRedis();
    const client = createClient({ url: r.url, RESP: 2 });
    client.on('error', () => undefined);
    await client.connect();
    // The first insert script runs on the server, then its reply is "lost" on the way back.
    let lost = 0;
    const lossy = new Proxy(client, {
      get(target, prop) {
        if (prop !== 'sendCommand') return Reflect.get(target, prop);
        return async (args: string[]) => {
          const reply = await target.sendCommand(args);
          if (args[0] === 'FCALL' && args.some((a) => a.includes('ann')) && lost++ === 0) {
            class SocketClosedUnexpectedlyError extends Error {}
            throw new SocketClosedUnexpectedlyError('Socket closed unexpectedly');
          }
          return reply;
        };
      },
    });
    const s = new RedisStore({ client: lossy as never, queue: 'rq', shards: 1, trustCallerClock: true });
    await s.insert([task('warm', T0)]); // loads the library: the next insert is one FCALL
    const [inserted] = await s.insert([task('mail', T0, { args: '["ann"]' })]);
    expect(lost).toBe(2);
    expect(inserted).toMatchObject({ created: true });
    expect((await s.list({ name: 'mail' })).map((row) => row.id)).toEqual([inserted!.id]);
    expect((await s.stats()).counts.scheduled).toBe(2);
    await s.close();
    await client.close();
  });

  it('a claim whose reply was lost is an unknown outcome (E_BACKEND_UNKNOWN_OUTCOME), a read\'s only unavailability', async () => {
    const r = await startRedis();
    const client = createClient({ url: r.url, RESP: 2 });
    client.on('error', () => undefined);
    await client.connect();
    let lose = false;
    const lossy = new Proxy(client, {
      get(target, prop) {
        if (prop !== 'sendCommand') return Reflect.get(target, prop);
        return async (args: string[]) => {
          const reply = await target.sendCommand(args);
          if (lose) {
            class TimeoutError extends Error {}
            throw new TimeoutError('Timeout');
          }
          return reply;
        };
      },
    });
    const s = new RedisStore({ client: lossy as never, queue: 'uo', shards: 1, trustCallerClock: true });
    const [t] = await s.insert([task('a', T0)]);
    lose = true;
    await expect(s.claim({ owner: 'A', uptoSecond: S0 + 1, limit: 10, names: ['a'] })).rejects.toMatchObject({ code: 'E_BACKEND_UNKNOWN_OUTCOME' });
    await expect(s.get(t!.id)).rejects.toMatchObject({ code: 'E_BACKEND_UNAVAILABLE' });
    lose = false;
    // It did run: the task is running under A, as an unknown outcome allows.
    expect(await s.get(t!.id)).toMatchObject({ state: 'running', owner: 'A' });
    await s.close();
    await client.close();
  });
});

describe('list', () => {
  it('finds running tasks exactly, however many newer tasks are scheduled (no scan cap)', async () => {
    const r = await startRedis();
    const s = store(r.url, { shards: 1 });
    const [old] = await s.insert([task('a', T0)]);
    await s.claim({ owner: 'A', uptoSecond: S0, limit: 10, names: ['a'] });
    for (let i = 0; i < 12_000; i += 1000) await s.insert(Array.from({ length: 1000 }, () => task('b', T0 + DAY_MS)));
    expect((await s.list({ state: 'running' })).map((row) => [row.id, row.owner])).toEqual([[old!.id, 'A']]);
    expect(await s.list({ state: 'running', beforeId: old!.id })).toEqual([]);
    expect((await s.list({ state: 'scheduled', limit: 3 })).map((row) => row.name)).toEqual(['b', 'b', 'b']);
    await s.close();
  });
});

describe('nudges', () => {
  it('tells another process\'s store within milliseconds of a task written behind the cursor, and not of a later one', async () => {
    const r = await startRedis();
    const queue = `n${q++}`;
    const daemon = new RedisStore({ url: r.url, queue, shards: 4 });
    const producer = new RedisStore({ url: r.url, queue, shards: 4 });
    const now = await daemon.now();
    await daemon.claim({ owner: 'D', uptoSecond: Math.floor(now / 1000), limit: 10, names: ['a'] });
    const heard: number[] = [];
    const stop = await daemon.onNudge((dueMs) => heard.push(dueMs));
    await producer.insert([{ ...task('a', now + 60_000), createdMs: now }]);
    const sent = Date.now();
    await producer.insert([{ ...task('a', now - 5), createdMs: now }]);
    for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((res) => setTimeout(res, 5));
    expect(heard).toEqual([now - 5]);
    expect(Date.now() - sent).toBeLessThan(200);
    await stop();
    await producer.insert([{ ...task('a', now - 4), createdMs: now }]);
    await new Promise((res) => setTimeout(res, 50));
    expect(heard).toEqual([now - 5]);
    await Promise.all([daemon.close(), producer.close()]);
  });
});

describe('a claim that fails on one shard', () => {
  it('gives back what the other shards took, so nothing is left running unknown to the caller', async () => {
    const r = await startRedis();
    const client = createClient({ url: r.url, RESP: 2 });
    client.on('error', () => undefined);
    await client.connect();
    let down: string | undefined;
    const flaky = new Proxy(client, {
      get(target, prop) {
        if (prop !== 'sendCommand') return Reflect.get(target, prop);
        return async (args: string[]) => {
          if (down !== undefined && args[0] === 'FCALL' && args[1] === CLAIM.fn && args[3] === `${down}cur`) throw new Error('CLUSTERDOWN The cluster is down');
          return target.sendCommand(args);
        };
      },
    });
    const s = new RedisStore({ client: flaky as never, queue: 'cd', shards: 4, trustCallerClock: true });
    for (let i = 0; i < 8; i++) await s.insert([task('a', T0 + i)]);
    down = shardPrefix('cd', 2);
    await expect(s.claim({ owner: 'A', uptoSecond: S0 + 1, limit: 100, names: ['a'] })).rejects.toMatchObject({ code: 'E_BACKEND_CLUSTERDOWN' });
    expect(await s.list({ state: 'running' })).toEqual([]);
    expect((await s.stats()).counts).toMatchObject({ scheduled: 8, running: 0 });
    down = undefined;
    expect((await s.claim({ owner: 'A', uptoSecond: S0 + 1, limit: 100, names: ['a'] })).tasks.map((t) => t.dueMs)).toEqual(
      Array.from({ length: 8 }, (_, i) => T0 + i),
    );
    await s.close();
    await client.close();
  });
});

describe('batch bitmaps', () => {
  it('keeps Redis\'s bit order, so GETBIT of item i is item i; chunks come out in delayd\'s order', async () => {
    const r = await startRedis();
    const s = store(r.url);
    const batch = await s.insertBatch({ name: 'i', key: null, createdMs: T0, dueMs: T0, reduce: null }, Array.from({ length: 20 }, () => task('i', T0)));
    const items = await s.batchItems(batch.id, 0, 20);
    await s.cancel(items[5]!.taskId, T0 + 1);
    await s.claim({ owner: 'A', uptoSecond: S0 + 1, limit: 100, names: ['i'] });
    await s.record([
      { kind: 'started', id: items[9]!.taskId, owner: 'A', attempt: 1, atMs: T0 + 2 },
      { kind: 'succeeded', id: items[9]!.taskId, owner: 'A', attempt: 1, atMs: T0 + 3, result: null },
    ]);
    const p = shardPrefix(`b${q - 1}`, batch.id % 1024);
    const bit = (key: string, i: number) => rawCommand(r.port, ['GETBIT', `${p}${key}:${batch.id}`, String(i)]);
    expect([await bit('bd', 5), await bit('bo', 5), await bit('bd', 9), await bit('bo', 9), await bit('bd', 6)]).toEqual([':1\r\n', ':0\r\n', ':1\r\n', ':1\r\n', ':0\r\n']);
    const [chunk] = await s.batchChunks(batch.id);
    expect(Array.from({ length: 20 }, (_, i) => statusIn(chunk, i)).map((st, i) => (st === 'pending' ? '' : `${i}:${st}`)).filter(Boolean)).toEqual(['5:failed', '9:succeeded']);
    await s.close();
  });
});

describe('the cost of a tick', () => {
  /** Commands Redis ran (inside scripts too) during `run`, from INFO commandstats. */
  async function commandsDuring(port: number, run: () => Promise<unknown>): Promise<number> {
    await rawCommand(port, ['CONFIG', 'RESETSTAT']);
    await run();
    const info = await rawCommand(port, ['INFO', 'commandstats']);
    let calls = 0;
    for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) if (!/^(info|config|fcall|function\|load)$/.test(m[1] as string)) calls += Number(m[2]);
    return calls;
  }

  it('with nothing due costs the same commands whatever is pending: 100 or 30,000 tasks', async () => {
    const r = await startRedis();
    const counts: number[] = [];
    for (const pending of [100, 30_000]) {
      const s = store(r.url, { shards: 1 });
      await s.claim({ owner: 'A', uptoSecond: S0, limit: 10, names: ['a'] });
      // Spread over the next two hours (the ring) and the next days (buckets), none due yet.
      for (let i = 0; i < pending; i += 1000) {
        await s.insert(Array.from({ length: Math.min(1000, pending - i) }, (_, k) => task('a', T0 + 60_000 + ((i + k) * 7919) % (3 * DAY_MS))));
      }
      counts.push(await commandsDuring(r.port, () => s.claim({ owner: 'A', uptoSecond: S0 + 1, limit: 10, names: ['a'] })));
      await s.close();
    }
    expect(counts[1]).toBe(counts[0]);
    expect(counts[0]).toBeLessThan(20);
  }, 60_000);

  it('catches up 20,000 overdue tasks in calls that each stay short (SLOWLOG)', async () => {
    const r = await startRedis({ extraArgs: ['--slowlog-log-slower-than', '1000', '--slowlog-max-len', '10000'] });
    const s = store(r.url, { shards: 1 });
    await s.claim({ owner: 'A', uptoSecond: S0, limit: 10, names: ['c'] });
    for (let i = 0; i < 20_000; i += 1000) await s.insert(Array.from({ length: 1000 }, (_, k) => task('c', T0 + 1000 + (i + k) * 50)));
    await rawCommand(r.port, ['SLOWLOG', 'RESET']);
    await rawCommand(r.port, ['CONFIG', 'RESETSTAT']);
    let claimed = 0;
    let calls = 0;
    while (claimed < 20_000) {
      const got = await s.claim({ owner: 'A', uptoSecond: S0 + 2000, limit: 5000, names: ['c'] });
      if (got.tasks.length === 0) break;
      claimed += got.tasks.length;
      calls++;
    }
    expect(claimed).toBe(20_000);
    const stats = await rawCommand(r.port, ['INFO', 'commandstats']);
    const [, evals, usecPerCall] = /cmdstat_fcall:calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/.exec(stats) ?? [];
    const client = createClient({ url: r.url, RESP: 2 });
    await client.connect();
    const log = (await client.sendCommand(['SLOWLOG', 'GET', '10000'])) as [number, number, number, string[]][];
    await client.close();
    const slow = log.filter((e) => /^fcall$/i.test(String(e[3][0]))).map((e) => Number(e[2]));
    console.log(`catch-up of 20,000: ${calls} claims, ${evals} script calls, ${usecPerCall} us each on average, ${slow.length} over 1 ms, longest ${Math.max(0, ...slow)} us`);
    // Each call is bounded by design (at most 100 tasks, 160 entries touched): 20,000 tasks take
    // at least 200 calls, ~1 ms each on this box when idle. Wall time inside Redis on a shared
    // 2-core box under load (load average 7 seen) varies 2x-3x, so the time bound here is loose:
    // it catches an unbounded call (all 20,000 in one script: ~0.25 s at ~12 µs a task), not a noisy one.
    expect(Number(evals)).toBeGreaterThanOrEqual(200);
    expect(Number(usecPerCall)).toBeLessThan(20_000);
    await s.close();
  }, 60_000);
});

describe('a group commit of many outcomes', () => {
  it('goes to Redis in RECORD calls of at most 100 outcomes, each in order, all applied', async () => {
    const r = await startRedis();
    const s = store(r.url, { shards: 1 });
    await s.insert(Array.from({ length: 450 }, (_, i) => task('g', T0 + i)));
    const claimed = await s.claim({ owner: 'A', uptoSecond: S0 + 1, limit: 1000, names: ['g'] });
    expect(claimed.tasks).toHaveLength(450);
    const starts = claimed.tasks.map((t) => ({ kind: 'started' as const, id: t.id, owner: 'A', attempt: 1, atMs: T0 + 1000 }));
    const ends = claimed.tasks.map((t) => ({ kind: 'succeeded' as const, id: t.id, owner: 'A', attempt: 1, atMs: T0 + 1001, result: null }));
    await rawCommand(r.port, ['CONFIG', 'RESETSTAT']);
    // The start and the end of each task in one call, the end after its start: order kept across chunks.
    const result = await s.record([...starts, ...ends]);
    const stats = await rawCommand(r.port, ['INFO', 'commandstats']);
    const [, evals] = /cmdstat_fcall:calls=(\d+)/.exec(stats) ?? [];
    expect(Number(evals)).toBe(9); // 900 outcomes: 9 calls of 100
    expect(result.applied.every(Boolean)).toBe(true);
    expect((await s.stats()).counts).toMatchObject({ succeeded: 450, running: 0 });
    await s.close();
  }, 60_000);
});
