/**
 * Clock skew: a daemon run under libfaketime (FAKETIME="+2s", then "-2s") shares Redis with
 * a daemon on the true clock. Judged by Redis's TIME (asked by the handler itself as it
 * starts), no task starts before its eta; the daemon 2 s behind starts its tasks at most
 * about its skew late; the one 2 s ahead cannot take tasks early.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scenarios } from '../helpers.js';
import type { Daemon } from '../fixtures/cli.js';
import { killedAtEnd, until } from '../procs/issue10.js';
import { rawCommand, startRedis, stopAllRedis, type RedisServer } from '../redis/servers.js';
import { producer, readStamps, redisDaemon, runsIn } from './lib.js';

const { defer } = scenarios();
const started = killedAtEnd(defer);
afterAll(stopAllRedis);

const ARGS = ['--lease', '3', '--heartbeat', '0.5', '--log-level', 'info', '--concurrency', '20'];

/** How far the daemon's clock is from this one's: its 'scheduler started' log time (pino, Date.now()) when we saw it. */
function skewOf(d: Daemon): number {
  const e = d.events.find((x) => x.msg === 'scheduler started')!;
  return Number(e.time) - Date.now();
}

async function redisNow(redis: RedisServer): Promise<number> {
  const reply = await rawCommand(redis.port, ['TIME']);
  const [s, us] = reply.split('\r\n').filter((l) => /^\d+$/.test(l));
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/** n stamp tasks with etas spread over [from, from + spanMs) on Redis's clock. */
async function enqueueStamps(url: string, redis: RedisServer, n: number, fromMs: number, spanMs: number): Promise<void> {
  const app = producer(url);
  try {
    const base = (await redisNow(redis)) + fromMs;
    await app.enqueue('stamp', Array.from({ length: n }, (_, i) => ({ args: [], when: { eta: base + Math.floor((i * spanMs) / n) } })));
  } finally {
    await app.close();
  }
}

describe('a daemon whose clock is skewed, beside one on the true clock', () => {
  it('FAKETIME="+2s": nothing starts before its eta by Redis TIME, on either daemon', async () => {
    const redis = await startRedis();
    const dir = mkdtempSync(join(tmpdir(), 'delayd-rskew-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const log = runsIn(dir);
    const fast = started(redisDaemon(redis.url, { runs: log, faketime: '+2s', args: ARGS }));
    await fast.waitFor('the fast daemon to start', (d) => d.count('scheduler started') > 0, 15_000);
    expect(skewOf(fast), 'faketime in effect').toBeGreaterThan(1500);
    const normal = started(redisDaemon(redis.url, { runs: log, args: ARGS }));
    await normal.waitFor('the normal daemon to start', (d) => d.count('scheduler started') > 0, 15_000);
    const N = 300;
    await enqueueStamps(redis.url, redis, N, 1000, 4000);
    await until('every task to start', () => readStamps(log).length >= N, 30_000, () => readStamps(log).length);
    const stamps = readStamps(log);
    const early = stamps.filter((s) => s.redisMs < s.etaMs);
    expect(early.map((s) => ({ ...s, earlyMs: s.etaMs - s.redisMs, byFast: s.pid === fast.child.pid })), 'started before their eta by Redis TIME').toEqual([]);
    expect(new Set(stamps.map((s) => s.id)).size).toBe(N);
    // The skewed daemon took part (else the test proves nothing about it).
    expect(stamps.filter((s) => s.pid === fast.child.pid).length).toBeGreaterThan(0);
    await Promise.all([fast.stop(), normal.stop()]);
  }, 60_000);

  it('FAKETIME="-2s": alone it starts tasks late by at most its skew, never early; with the normal one, none early', async () => {
    const redis = await startRedis();
    const dir = mkdtempSync(join(tmpdir(), 'delayd-rskew-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const log = runsIn(dir);
    const slow = started(redisDaemon(redis.url, { runs: log, faketime: '-2s', args: ARGS }));
    await slow.waitFor('the slow daemon to start', (d) => d.count('scheduler started') > 0, 15_000);
    expect(skewOf(slow), 'faketime in effect').toBeLessThan(-1500);
    const N = 100;
    await enqueueStamps(redis.url, redis, N, 1000, 2000);
    await until('the slow daemon to start every task', () => readStamps(log).length >= N, 30_000, () => readStamps(log).length);
    const alone = readStamps(log);
    for (const s of alone) {
      expect(s.redisMs - s.etaMs, `task ${s.id}`).toBeGreaterThanOrEqual(0);
      expect(s.redisMs - s.etaMs, `task ${s.id} late by more than the skew`).toBeLessThanOrEqual(2000 + 500);
    }
    const normal = started(redisDaemon(redis.url, { runs: log, args: ARGS }));
    await normal.waitFor('the normal daemon to start', (d) => d.count('scheduler started') > 0, 15_000);
    await enqueueStamps(redis.url, redis, N, 1000, 2000);
    await until('every task to start', () => readStamps(log).length >= 2 * N, 30_000, () => readStamps(log).length);
    expect(readStamps(log).filter((s) => s.redisMs < s.etaMs)).toEqual([]);
    await Promise.all([slow.stop(), normal.stop()]);
  }, 60_000);
});
