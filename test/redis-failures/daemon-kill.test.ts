/**
 * Daemons on Redis killed with SIGKILL under load, in a loop: nothing is lost, and only a task
 * whose attempt was running at a kill (or had ended but not yet been committed) runs again.
 * Then seed 003's validation on Redis: values 0..n, every odd one failing its first attempt
 * (the policy only in the handler), two daemons, one killed mid-run: every value comes out.
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

const { defer } = scenarios();
const started = killedAtEnd(defer);
afterAll(stopAllRedis);

function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'delayd-rfail-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const FAST = ['--lease', '2', '--heartbeat', '0.3', '--log-level', 'warn'];

describe('kill -9 of a daemon on Redis, in a loop', () => {
  it('loses nothing; only attempts running at a kill run twice', async () => {
    const redis = await startRedis({ appendonly: true });
    const dir = workDir();
    const log = runsIn(dir);
    const COUNT = 400;
    const app = producer(redis.url);
    defer(() => app.close());
    await app.enqueue('work', Array.from({ length: COUNT }, (_, n) => ({ args: [n, 25], when: { countdown: (n % 40) / 10 } })));
    const kills: number[] = [];
    for (let cycle = 0; cycle < 6; cycle++) {
      const d = started(redisDaemon(redis.url, { runs: log, args: [...FAST, '--concurrency', '8'] }));
      const before = [...readExecutions(log).values()].flat().length;
      await until(`cycle ${cycle}: the daemon to start 20 more attempts`, () => [...readExecutions(log).values()].flat().length >= before + 20 || d.child.exitCode !== null, 20_000);
      const done = countByState(await tasks(redis.url)).succeeded ?? 0;
      if (done === COUNT) break;
      d.signal('SIGKILL');
      await d.exited;
      kills.push(Date.now());
    }
    const last = started(redisDaemon(redis.url, { runs: log, args: [...FAST, '--concurrency', '8'] }));
    await until('every task to succeed', async () => (countByState(await tasks(redis.url)).succeeded ?? 0) === COUNT, 60_000, async () => countByState(await tasks(redis.url)));
    const rows = await tasks(redis.url);
    expect(rows).toHaveLength(COUNT);
    expect(rows.map((r) => JSON.parse(r.result!) as number).sort((a, b) => a - b)).toEqual(Array.from({ length: COUNT }, (_, n) => n));
    const runs = readExecutions(log);
    expect(runs.size).toBe(COUNT);
    let twice = 0;
    for (const [id, executions] of runs) {
      // Every run but the last was cut off by a kill: unfinished, or finished within the last
      // group commit before the kill (its outcome not yet written).
      for (const run of executions.slice(0, -1)) {
        const kill = kills.find((k) => k >= run.startMs);
        expect(kill, `task ${id}: a run at ${run.startMs} was repeated with no kill after it`).toBeDefined();
        if (run.endMs !== undefined) expect(kill! - run.endMs, `task ${id}: a finished run (ended ${kill! - run.endMs} ms before the kill) ran again`).toBeLessThan(500);
        twice++;
      }
    }
    expect(kills.length).toBeGreaterThanOrEqual(3);
    // Some attempts were running at the kills (8 at a time): the test saw the case it is about.
    expect(twice).toBeGreaterThan(0);
    await last.stop();
  }, 150_000);
});

describe("seed 003's validation on Redis", () => {
  it('every value 0..n comes out: every other attempt fails once, two daemons, one killed mid-run', async () => {
    const redis = await startRedis({ appendonly: true });
    const dir = workDir();
    const log = runsIn(dir);
    const COUNT = 1000;
    const app = producer(redis.url);
    defer(() => app.close());
    // As a producer that knows nothing of the handler: no retries, no backoff.
    await app.enqueue('val', Array.from({ length: COUNT }, (_, value) => ({ args: [value] })));
    const a = started(redisDaemon(redis.url, { runs: log, args: [...FAST, '--concurrency', '4'] }));
    // A is at work before B comes up, so the kill of A is mid-run whatever the machine's load.
    await until('A to start 20 attempts', () => [...readExecutions(log).values()].flat().length >= 20, 30_000);
    const b = started(redisDaemon(redis.url, { runs: log, args: [...FAST, '--concurrency', '4'] }));
    await until('a quarter to succeed', async () => (countByState(await tasks(redis.url)).succeeded ?? 0) >= COUNT / 4, 40_000);
    a.signal('SIGKILL');
    await a.exited;
    const midway = countByState(await tasks(redis.url));
    expect(midway.succeeded).toBeLessThan(COUNT);
    await until('every value to succeed', async () => (countByState(await tasks(redis.url)).succeeded ?? 0) === COUNT, 60_000, async () => countByState(await tasks(redis.url)));
    const rows = await tasks(redis.url);
    expect(rows.map((r) => JSON.parse(r.result!) as number).sort((x, y) => x - y)).toEqual(Array.from({ length: COUNT }, (_, v) => v));
    const odd = rows.filter((r) => Number(JSON.parse(r.args)[0]) % 2 === 1);
    for (const row of odd) {
      expect(row.attempts, `value ${row.args}`).toBeGreaterThanOrEqual(2);
      expect(row.errors.length + row.cutOffs).toBeGreaterThanOrEqual(1);
    }
    // Both daemons did part of the work.
    const pids = new Set([...readExecutions(log).values()].flat().map((r) => r.pid));
    expect(pids).toEqual(new Set([a.child.pid, b.child.pid]));
    await b.stop();
  }, 120_000);
});
