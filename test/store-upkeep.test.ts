/**
 * The background upkeep thread (store/upkeep.ts), a real worker thread: a store that has
 * claimed runs one, and close() returns only once its connection is closed, so the path can
 * be deleted and a new database created there at once (the benchmarks do this; a connection
 * closing late in the same process could share SQLite's lock and shared-memory state with the
 * new file if its inode number is reused). Each round proves the thread ran: it joins a bucket
 * that no claim of this test would join.
 */
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/index.js';
import type { NewTask } from '../src/store/types.js';
import { tempDb } from './tmpdb.js';

const T = Date.parse('2030-01-01T09:00:00Z');
const HOUR = 3_600_000;
let db = tempDb();
afterEach(async () => {
  db.remove();
  db = tempDb();
});

function tasks(n: number, dueMs = T): NewTask[] {
  return Array.from({ length: n }, (_, i) => ({ name: 'send', args: `[${i}]`, dueMs: dueMs + i, createdMs: T, key: null, retries: 0, backoffMs: 1000, timeoutMs: null }));
}

function bucketRows(path: string): number {
  const conn = new Database(path, { readonly: true });
  try {
    return conn.prepare('SELECT count(*) FROM cycle_buckets').pluck().get() as number;
  } finally {
    conn.close();
  }
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await sleep(20);
  return condition();
}

describe('the background upkeep thread', () => {
  it('runs once a store has claimed (it joins the next cycle\'s bucket), is stopped by close(), and the path can be reused at once', async () => {
    for (let round = 0; round < 2; round++) {
      const store = new SqliteStore({ path: db.path });
      await store.insert(tasks(500));
      await store.insert(tasks(3, T + 2 * HOUR)); // a bucket of cycle C + 2
      expect(bucketRows(db.path)).toBe(1);
      // Up to the first second of C + 1: the claim joins up to C + 1, the thread C + 2.
      const { tasks: claimed } = await store.claim({ owner: 'me', uptoSecond: (T + HOUR) / 1000, limit: 1000, names: ['send'] });
      expect(claimed).toHaveLength(500);
      expect(bucketRows(db.path)).toBe(1);
      expect(await until(() => bucketRows(db.path) === 0, 5000)).toBe(true);
      await store.record(claimed.map((t) => ({ kind: 'started', id: t.id, owner: 'me', attempt: 1, atMs: T })));
      store.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(db.path + suffix, { force: true });
    }
    const store = new SqliteStore({ path: db.path });
    await store.insert(tasks(10));
    expect((await store.stats()).counts.scheduled).toBe(10);
    store.close();
  });

  it('reports its failures to onUpkeepError instead of swallowing them', async () => {
    const errors: Error[] = [];
    const store = new SqliteStore({ path: db.path, onUpkeepError: (e) => errors.push(e) });
    await store.insert(tasks(1));
    rmSync(db.path); // the store keeps its open file; the thread finds none to open
    await store.claim({ owner: 'me', uptoSecond: T / 1000, limit: 10, names: ['send'] });
    expect(await until(() => errors.length > 0, 5000)).toBe(true);
    expect(errors[0]!.message).toMatch(/upkeep thread: start: /);
    store.close();
  });
});
