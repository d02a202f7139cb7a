/**
 * Crash and multi-process tests: real schedulers in child processes (test/procs/worker.mjs,
 * built from dist/) on one temporary database file.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { exited, readExecutions, runProducer, startWorker, waitFor } from './procs/harness.js';
import { scenarios } from './helpers.js';
import { tempDb } from './tmpdb.js';
import type { ChildProcess } from 'node:child_process';

const { defer } = scenarios();
const killAfter = (...children: ChildProcess[]) => defer(() => children.forEach((child) => child.kill('SIGKILL')));

async function enqueue(db: string, count: number, now: number, handlerMs = (n: number) => (n * 7) % 61) {
  const store = new SqliteStore({ path: db });
  // Some due now, some over the next 3 s; handlers take 0-60 ms unless told otherwise.
  await store.insert(
    Array.from({ length: count }, (_, n) => ({
      name: 'work',
      args: JSON.stringify([n, handlerMs(n)]),
      dueMs: now + (n % 4 === 0 ? 0 : (n * 13) % 3_000),
      createdMs: now,
      key: null,
      retries: null,
      backoffMs: null,
      timeoutMs: null,
    })),
  );
  await store.close();
}

const allSucceeded = (count: number) => async (store: SqliteStore) => (await store.stats()).counts.succeeded === count;

/** Waits until the log shows `count` more starts than `since` (so a kill lands under load). */
async function startsGrow(log: string, since: number, count: number, timeoutMs = 20_000): Promise<number> {
  const starts = () => [...readExecutions(log).values()].reduce((n, runs) => n + runs.length, 0);
  const deadline = Date.now() + timeoutMs;
  while (starts() < since + count) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} more starts`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return starts();
}

describe('SIGKILL at random moments under load', () => {
  it('loses nothing, and only tasks in flight at a kill run more than once', async () => {
    const db = tempDb();
    defer(db.remove);
    const log = join(db.path, '..', 'runs.log');
    const COUNT = 3_000;
    await enqueue(db.path, COUNT, Date.now());
    const kills: { pid: number; atMs: number }[] = [];
    let starts = 0;
    // Each kill lands once that worker has started a different number of tasks, mid-load.
    for (const more of [300, 150, 450, 250]) {
      const worker = await startWorker(db.path, log);
      killAfter(worker);
      starts = await startsGrow(log, starts, more);
      kills.push({ pid: worker.pid!, atMs: Date.now() });
      worker.kill('SIGKILL');
      await exited(worker);
    }
    const last = await startWorker(db.path, log);
    killAfter(last);
    expect(await waitFor(db.path, allSucceeded(COUNT), 40_000)).toBe(true);
    last.kill('SIGTERM');
    await exited(last);

    const executions = readExecutions(log);
    expect(executions.size).toBe(COUNT);
    const killedAt = new Map(kills.map((k) => [k.pid, k.atMs]));
    let repeated = 0;
    for (const runs of executions.values()) {
      if (runs.length === 1) continue;
      repeated++;
      // Every run but the last was cut off by a kill: it never ended, or ended so shortly
      // before the kill that its outcome was still in the group-commit buffer.
      for (const run of runs.slice(0, -1)) {
        const kill = killedAt.get(run.pid);
        expect(kill, `task ${run.id} ran twice outside a killed process`).toBeDefined();
        if (run.endMs !== undefined) expect(kill! - run.endMs).toBeLessThan(250);
      }
    }
    expect(kills).toHaveLength(4);
    // The kills landed under load: at least some task was in flight at one of them.
    expect(repeated).toBeGreaterThan(0);
  }, 90_000);
});

describe('many processes on one database', () => {
  it('producers in other processes race two schedulers; every task runs exactly once', async () => {
    const db = tempDb();
    defer(db.remove);
    const log = join(db.path, '..', 'runs.log');
    new SqliteStore({ path: db.path }).close();
    const workers = [await startWorker(db.path, log), await startWorker(db.path, log)];
    killAfter(...workers);
    await Promise.all([runProducer(db.path, 0, 400), runProducer(db.path, 400, 400)]);
    expect(await waitFor(db.path, allSucceeded(800), 30_000)).toBe(true);
    const executions = readExecutions(log);
    expect(executions.size).toBe(800);
    expect([...executions.values()].filter((runs) => runs.length !== 1)).toEqual([]);
    const pids = new Set([...executions.values()].map((runs) => runs[0]!.pid));
    expect(pids.size).toBe(2); // both schedulers took work
  }, 60_000);

  it('when one of two schedulers dies, the other takes over its running tasks', async () => {
    const db = tempDb();
    defer(db.remove);
    const log = join(db.path, '..', 'runs.log');
    // Handlers of 400 ms, so that the kill finds some of them running on `a`.
    await enqueue(db.path, 200, Date.now(), () => 400);
    const [a, b] = [await startWorker(db.path, log), await startWorker(db.path, log)];
    killAfter(a, b);
    // Kill `a` once it has handlers running (started, not ended).
    const aRunning = () => [...readExecutions(log).values()].some((runs) => runs.some((r) => r.pid === a.pid && r.endMs === undefined));
    for (const deadline = Date.now() + 20_000; !aRunning(); ) {
      if (Date.now() > deadline) throw new Error('timed out waiting for a to run handlers');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    a.kill('SIGKILL');
    expect(await waitFor(db.path, allSucceeded(200), 30_000)).toBe(true);
    const cutOff = [...readExecutions(log).values()].filter((runs) => runs.some((r) => r.pid === a.pid && r.endMs === undefined));
    expect(cutOff.length).toBeGreaterThan(0);
    for (const runs of cutOff) {
      const last = runs[runs.length - 1]!;
      expect(last).toMatchObject({ pid: b.pid });
      expect(last.endMs).toBeDefined();
    }
  }, 60_000);
});
