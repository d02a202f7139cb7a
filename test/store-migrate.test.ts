/**
 * Schema 5 (store/schema.ts): an older file migrated with its rows, ids never reused after a
 * purge (tasks and batches, single and bulk inserts), and several processes creating one new
 * file at the same moment (red-team #7), through the built store in dist/.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/store/sqlite/schema.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import type { NewTask, Outcome } from '../src/store/types.js';
import { tempDb } from './tmpdb.js';

const T = Date.parse('2030-01-01T09:00:00Z');
let db: ReturnType<typeof tempDb>;
let store: SqliteStore | undefined;
beforeEach(async () => {
  db = tempDb();
});
afterEach(async () => {
  store?.close();
  store = undefined;
  db.remove();
});

function task(i: number): NewTask {
  return { name: 'send', args: `[${i}]`, dueMs: T, createdMs: T, key: null, retries: null, backoffMs: null, timeoutMs: null };
}

async function finishAll(s: SqliteStore, names: string[]): Promise<void> {
  const { tasks } = await s.claim({ owner: 'o', uptoSecond: T / 1000 + 10, limit: 1000, names });
  const o = (id: number) => ({ id, owner: 'o', attempt: 1, atMs: T + 1 });
  await s.record(tasks.flatMap((t): Outcome[] => [{ kind: 'started', ...o(t.id) }, { kind: 'succeeded', ...o(t.id), result: null }]));
}

describe('a database of schema version 4', () => {
  it('is migrated keeping its rows, their explicit policies and old error history', async () => {
    const old = new Database(db.path);
    for (const sql of MIGRATIONS.slice(0, 4)) old.exec(sql);
    old.pragma('user_version = 4');
    const history = JSON.stringify([{ attempt: 1, atMs: T, error: 'Error: old\n    at x' }]);
    old.prepare(`INSERT INTO tasks (id, name, args, state, due_ms, slot, cycle, attempts, retries, backoff_ms, created_ms, last_error, errors, finished_ms)
      VALUES (7, 'send', '[]', 'failed', ?, 0, 0, 1, 2, 500, ?, 'Error: old', ?, ?)`).run(T, T, history, T);
    old.prepare(`INSERT INTO workers (owner, host, pid, names, started_ms, beat, seen_ms) VALUES ('w', 'h', 1, '["send"]', 0, 3, 0)`).run();
    old.close();
    store = new SqliteStore({ path: db.path });
    expect(await store.get(7)).toMatchObject({ state: 'failed', retries: 2, backoffMs: 500, timeoutMs: null, cutOffs: 0, lastErrorCode: null });
    expect((await store.get(7))!.errors).toEqual([{ attempt: 1, atMs: T, code: null, message: 'Error: old', stack: 'Error: old\n    at x', error: 'Error: old\n    at x' }]);
    expect(await store.workers()).toMatchObject([{ owner: 'w', beat: 3, policies: {} }]);
    // AUTOINCREMENT carried over: the next id follows the highest one, even once that is purged.
    await store.purge(T + 1);
    expect(await store.get(7)).toBeUndefined();
    expect((await store.insert([task(0)]))[0]!.id).toBe(8);
    const conn = new Database(db.path, { readonly: true });
    expect(conn.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    conn.close();
  });
});

describe('ids', () => {
  it('are never reused after a purge, by single inserts, bulk inserts or batches', async () => {
    store = new SqliteStore({ path: db.path });
    await store.insert([task(0), task(1), task(2)]);
    const batch = await store.insertBatch({ name: 'item', key: null, createdMs: T, dueMs: T, reduce: null }, [task(3)]);
    await finishAll(store, ['send', 'item']);
    expect(await store.purge(T + 2)).toBe(4);
    expect(await store.getBatch(batch.id)).toBeUndefined();
    expect((await store.insert([task(4)]))[0]!.id).toBe(5);
    await finishAll(store, ['send']);
    await store.purge(T + 2);
    expect((await store.insert([task(5), task(6)])).map((r) => r.id)).toEqual([6, 7]);
    const again = await store.insertBatch({ name: 'item', key: null, createdMs: T, dueMs: T, reduce: null }, [task(7)]);
    expect(again.id).toBe(batch.id + 1);
  });
});

describe('several processes creating one new database at once', () => {
  it('all succeed, over 5 rounds of 6 processes', async () => {
    const storeUrl = new URL('../dist/store/sqlite/index.js', import.meta.url).href;
    for (let round = 0; round < 5; round++) {
      const path = join(db.path + `-${round}`);
      const go = `${path}.go`;
      const script = `
        const fs = require('node:fs');
        import(${JSON.stringify(storeUrl)}).then(async ({ SqliteStore }) => {
          process.stdout.write('ready\\n');
          while (!fs.existsSync(${JSON.stringify(go)})) {}
          const store = new SqliteStore({ path: ${JSON.stringify(path)} });
          await store.insert([{ name: 'x', args: '[]', dueMs: ${T}, createdMs: ${T}, key: null, retries: null, backoffMs: null, timeoutMs: null }]);
          await store.close();
        }).catch((e) => { console.error(e.code, e.message); process.exit(1); });`;
      const children = Array.from({ length: 6 }, () => spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] }));
      const errors: string[] = [];
      const ready = children.map((c) => new Promise<void>((resolve) => c.stdout.once('data', () => resolve())));
      const exits = children.map(
        (c) =>
          new Promise<number | null>((resolve) => {
            c.stderr.on('data', (d: Buffer) => errors.push(d.toString()));
            c.on('exit', resolve);
          }),
      );
      await Promise.race([Promise.all(ready), Promise.all(exits)]);
      writeFileSync(go, '');
      expect(await Promise.all(exits), errors.join('')).toEqual([0, 0, 0, 0, 0, 0]);
      expect(existsSync(path)).toBe(true);
      const check = new SqliteStore({ path, readonly: true });
      expect((await check.stats()).counts.scheduled).toBe(6);
      check.close();
    }
  }, 60_000);
});
