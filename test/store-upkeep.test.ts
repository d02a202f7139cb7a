/**
 * The background upkeep thread (store/upkeep.ts), a real worker thread: a store that has
 * claimed runs one, and close() returns only once its connection is closed, so the path can
 * be deleted and a new database created there at once (the benchmarks do this; a connection
 * closing late in the same process could share SQLite's lock and shared-memory state with the
 * new file if its inode number is reused).
 */
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite.js';
import type { NewTask } from '../src/store/types.js';
import { tempDb } from './tmpdb.js';

const T = Date.parse('2030-01-01T09:00:00Z');
const db = tempDb();
afterEach(() => db.remove());

function tasks(n: number): NewTask[] {
  return Array.from({ length: n }, (_, i) => ({ name: 'send', args: `[${i}]`, dueMs: T + i, createdMs: T, key: null, retries: 0, backoffMs: 1000, timeoutMs: null }));
}

describe('the background upkeep thread', () => {
  it('is stopped by close(), and the path can be reused at once', async () => {
    for (let round = 0; round < 2; round++) {
      const store = new SqliteStore({ path: db.path });
      store.insert(tasks(500));
      const { tasks: claimed } = store.claim({ owner: 'me', uptoSecond: Math.floor(T / 1000) + 10, limit: 100, names: ['send'] });
      expect(claimed).toHaveLength(100);
      await sleep(250); // let the thread start and checkpoint once (every 200 ms)
      store.record(claimed.map((t) => ({ kind: 'started', id: t.id, owner: 'me', attempt: 1, atMs: T })));
      store.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(db.path + suffix, { force: true });
    }
    const store = new SqliteStore({ path: db.path });
    store.insert(tasks(10));
    expect(store.stats().counts.scheduled).toBe(10);
    store.close();
  });
});
