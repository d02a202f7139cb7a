/**
 * A daemon cut off from Redis while it holds tasks, three ways:
 *  - frozen itself (SIGSTOP beyond its lease, then SIGCONT): a second daemon puts its tasks
 *    back and runs them; after SIGCONT it finds its lease lost, starts nothing more, and the
 *    outcome of the attempt it was running is refused;
 *  - its connection reset (RST through a TCP proxy the test owns): it reconnects and every
 *    task succeeds, none twice (its owner never went silent for a lease);
 *  - its connection frozen (the proxy holds every byte, sockets stay open) beyond the lease:
 *    the other daemon puts its tasks back and runs them, and after the thaw nothing the frozen
 *    one reports is recorded over them; no task it held starts after its lease may have lapsed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scenarios } from '../helpers.js';
import { readExecutions } from '../procs/harness.js';
import { killedAtEnd, until } from '../procs/issue10.js';
import { startRedis, stopAllRedis } from '../redis/servers.js';
import { countByState, producer, redisDaemon, runsIn, tasks } from './lib.js';
import { TcpProxy } from './proxy.js';

const { defer } = scenarios();
const started = killedAtEnd(defer);
afterAll(stopAllRedis);

const LEASE_S = 2;
const FAST = ['--lease', String(LEASE_S), '--heartbeat', '0.4', '--log-level', 'info'];

function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'delayd-rpart-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const allSucceeded = (url: string, n: number) => async () => (countByState(await tasks(url)).succeeded ?? 0) === n;

describe('a daemon frozen with SIGSTOP beyond its lease', () => {
  it('its tasks are put back and run by the other; after SIGCONT its late outcome is refused', async () => {
    const redis = await startRedis();
    const log = runsIn(workDir());
    const COUNT = 30;
    const app = producer(redis.url);
    defer(() => app.close());
    await app.enqueue('work', Array.from({ length: COUNT }, (_, n) => ({ args: [n, 300] })));
    const a = started(redisDaemon(redis.url, { runs: log, args: [...FAST, '--concurrency', '1', '--queue-size', '50'] }));
    await until('A to have started two tasks', () => [...readExecutions(log).values()].flat().length >= 2, 20_000);
    const b = started(redisDaemon(redis.url, { runs: log, args: [...FAST, '--concurrency', '10'] }));
    await b.waitFor('B to start', (d) => d.count('scheduler started') > 0, 15_000);
    a.signal('SIGSTOP');
    const frozenAt = Date.now();
    await until('B to run every task', allSucceeded(redis.url, COUNT), 40_000, async () => countByState(await tasks(redis.url)));
    a.signal('SIGCONT');
    await a.waitFor('A to find its lease lost', (d) => d.events.some((e) => /lease lost/.test(e.msg)), 15_000);
    await a.waitFor('A to see its late outcome refused', (d) => d.events.some((e) => /outcome not recorded/.test(e.msg)), 15_000);
    const aPid = a.child.pid!;
    for (const [id, runs] of readExecutions(log)) {
      for (const run of runs.filter((r) => r.pid === aPid)) expect(run.startMs, `task ${id} started by A after the freeze`).toBeLessThan(frozenAt);
    }
    expect((await tasks(redis.url)).every((r) => r.state === 'succeeded')).toBe(true);
    await Promise.all([a.stop(), b.stop()]);
  }, 90_000);
});

describe('the connection between a daemon and Redis', () => {
  it('reset mid-run: the daemon reconnects, every task succeeds, none runs twice', async () => {
    const redis = await startRedis();
    const proxy = await new TcpProxy(redis.port).listen();
    defer(() => proxy.close());
    const log = runsIn(workDir());
    const COUNT = 200;
    const app = producer(redis.url);
    defer(() => app.close());
    await app.enqueue('work', Array.from({ length: COUNT }, (_, n) => ({ args: [n, 20], when: { countdown: (n % 30) / 10 } })));
    const d = started(redisDaemon(proxy.url, { runs: log, timeUrl: redis.url, args: [...FAST, '--concurrency', '5'] }));
    await until('a quarter to run', () => readExecutions(log).size >= COUNT / 4, 20_000);
    const connections = proxy.accepted;
    proxy.reset();
    await until('the daemon to reconnect', () => proxy.accepted > connections, 10_000);
    await until('every task to succeed', allSucceeded(redis.url, COUNT), 40_000, async () => countByState(await tasks(redis.url)));
    const runs = readExecutions(log);
    expect(runs.size).toBe(COUNT);
    // The owner never went silent for a lease: nothing was put back, so nothing ran twice,
    // apart from an attempt whose outcome was in flight at the reset (retried, fenced).
    const twice = [...runs.values()].filter((r) => r.length > 1);
    expect(twice.length, JSON.stringify(twice.slice(0, 3))).toBeLessThanOrEqual(5);
    expect(d.child.exitCode).toBeNull();
    await d.stop();
  }, 90_000);

  it('frozen beyond the lease: the other daemon runs its tasks; after the thaw nothing of it is recorded over them', async () => {
    const redis = await startRedis();
    const proxy = await new TcpProxy(redis.port).listen();
    defer(() => proxy.close());
    const log = runsIn(workDir());
    const COUNT = 30;
    const app = producer(redis.url);
    defer(() => app.close());
    await app.enqueue('work', Array.from({ length: COUNT }, (_, n) => ({ args: [n, 300] })));
    const a = started(redisDaemon(proxy.url, { runs: log, timeUrl: redis.url, args: [...FAST, '--concurrency', '1', '--queue-size', '50'] }));
    await until('A to have started two tasks', () => [...readExecutions(log).values()].flat().length >= 2, 20_000);
    const b = started(redisDaemon(redis.url, { runs: log, args: [...FAST, '--concurrency', '10'] }));
    await b.waitFor('B to start', (d) => d.count('scheduler started') > 0, 15_000);
    proxy.freeze();
    const frozenAt = Date.now();
    await until('B to run every task', allSucceeded(redis.url, COUNT), 40_000, async () => countByState(await tasks(redis.url)));
    const rowsBefore = JSON.stringify((await tasks(redis.url)).map((r) => [r.id, r.state, r.result, r.attempts]));
    proxy.thaw();
    await a.waitFor('A to learn it lost its lease', (d) => d.events.some((e) => /lease lost|outcome not recorded/.test(e.msg)), 20_000);
    // Whatever A held and finished after the freeze changed nothing B recorded.
    expect(JSON.stringify((await tasks(redis.url)).map((r) => [r.id, r.state, r.result, r.attempts]))).toBe(rowsBefore);
    const aPid = a.child.pid!;
    for (const [id, runs] of readExecutions(log)) {
      for (const run of runs.filter((r) => r.pid === aPid)) {
        // Self-fencing: A may start what it claimed until its lease may have lapsed, not after.
        expect(run.startMs - frozenAt, `task ${id} started by A ${run.startMs - frozenAt} ms into the freeze`).toBeLessThan(LEASE_S * 1000);
      }
    }
    await Promise.all([a.stop(), b.stop()]);
  }, 90_000);
});
