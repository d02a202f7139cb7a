/**
 * The reduce step across crashes, with real schedulers in child processes
 * (procs/batch-worker.mjs, built from dist/) on one temporary database file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { Scheduler } from '../src/scheduler.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { exited, waitFor } from './procs/harness.js';
import { scenarios } from './helpers.js';
import { tempDb } from './tmpdb.js';

const { defer } = scenarios();
const WORKER = fileURLToPath(new URL('./procs/batch-worker.mjs', import.meta.url));

function startWorker(db: string, log: string, mode: 'normal' | 'kill-before-reduce', batchId: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [WORKER, db, log, mode, String(batchId)], { stdio: ['ignore', 'pipe', 'inherit'] });
  defer(() => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', () => resolve(child));
  });
}

/** Creates the batch from a producer's scheduler that is never started, as a web app would. */
async function createBatch(db: string, count: number): Promise<number> {
  const app = new Scheduler({ db, logger: createLogger({ level: 'silent' }) });
  const square = app.task('square')((n: number) => n * n);
  const total = app.task('total')((batchId: number) => batchId);
  const batch = await square.map(Array.from({ length: count }, (_, n) => [n] as [number]), { reduce: total });
  await app.close();
  return batch.id;
}

function readLog(log: string): { items: Map<number, number>; reduces: string[] } {
  const items = new Map<number, number>();
  const reduces: string[] = [];
  if (!existsSync(log)) return { items, reduces };
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const [kind, value] = line.split(' ');
    if (kind === 'I') items.set(Number(value), (items.get(Number(value)) ?? 0) + 1);
    if (kind === 'R') reduces.push(line);
  }
  return { items, reduces };
}

/** Item executions so far, repeats included. */
function itemRuns(log: string): number {
  return [...readLog(log).items.values()].reduce((a, b) => a + b, 0);
}

const reduceDone = (batchId: number) => async (store: SqliteStore) => {
  const id = (await store.getBatch(batchId))?.reduceTaskId;
  return id != null && (await store.get(id))?.state === 'succeeded';
};

const sumOfSquares = (count: number) => Array.from({ length: count }, (_, n) => n * n).reduce((a, b) => a + b, 0);

describe('the reduce step across a crash', () => {
  it('runs exactly once when the daemon is killed between the last item and the reduce', async () => {
    const db = tempDb();
    defer(db.remove);
    const log = join(db.path, '..', 'runs.log');
    const COUNT = 60;
    const batchId = await createBatch(db.path, COUNT);

    const doomed = await startWorker(db.path, log, 'kill-before-reduce', batchId);
    await exited(doomed);
    expect(doomed.signalCode).toBe('SIGKILL');
    // Killed after the commit that set the last bit and inserted the reduce, before it ran.
    const store = new SqliteStore({ path: db.path, mustExist: true });
    defer(() => store.close());
    const batch = (await store.getBatch(batchId))!;
    expect(batch).toMatchObject({ total: COUNT, done: COUNT, ok: COUNT });
    expect((await store.get(batch.reduceTaskId!))!.state).toBe('scheduled');
    expect(readLog(log).reduces).toEqual([]);

    const heir = await startWorker(db.path, log, 'normal', batchId);
    expect(await waitFor(db.path, reduceDone(batchId), 20_000)).toBe(true);
    heir.kill('SIGTERM');
    await exited(heir);

    const { items, reduces } = readLog(log);
    expect(reduces).toEqual([`R ${batchId} ${heir.pid}`]);
    expect(items.size).toBe(COUNT);
    expect([...items.values()].every((runs) => runs === 1)).toBe(true);
    expect((await store.get(batch.reduceTaskId!))!.result).toBe(String(sumOfSquares(COUNT)));
    expect(await store.list({ name: 'total' })).toHaveLength(1);
  }, 60_000);

  it('killed at random moments while the items run: bits match, and the reduce still runs once', async () => {
    const db = tempDb();
    defer(db.remove);
    const log = join(db.path, '..', 'runs.log');
    const COUNT = 300;
    const batchId = await createBatch(db.path, COUNT);
    let ran = 0;
    // Each kill lands once that worker has run a different number of items, mid-batch.
    for (const more of [40, 25, 60]) {
      const worker = await startWorker(db.path, log, 'normal', batchId);
      const target = ran + more;
      for (const deadline = Date.now() + 20_000; itemRuns(log) < target; ) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${target} item runs`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      ran = itemRuns(log);
      worker.kill('SIGKILL');
      await exited(worker);
    }
    const last = await startWorker(db.path, log, 'normal', batchId);
    expect(await waitFor(db.path, reduceDone(batchId), 40_000)).toBe(true);
    last.kill('SIGTERM');
    await exited(last);

    const { items, reduces } = readLog(log);
    expect(reduces).toHaveLength(1);
    expect(items.size).toBe(COUNT);
    const store = new SqliteStore({ path: db.path, mustExist: true });
    defer(() => store.close());
    const batch = (await store.getBatch(batchId))!;
    expect(batch).toMatchObject({ total: COUNT, done: COUNT, ok: COUNT });
    expect((await store.get(batch.reduceTaskId!))!.result).toBe(String(sumOfSquares(COUNT)));
    // Items run again only when a kill cut them off; the batch counted each once.
    expect([...items.values()].some((runs) => runs > 1)).toBe(true);
  }, 90_000);
});
