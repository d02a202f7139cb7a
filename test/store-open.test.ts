/**
 * Opening the store (store/open.ts): read-only opens that write nothing (red-team #13), clear
 * coded errors for paths that cannot be a database and for a busy timeout SQLite would wrap
 * (red-team #5, #16), and new files readable by their owner only (red-team #17).
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/store/sqlite/schema.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { tempDb } from './tmpdb.js';

const T = Date.parse('2030-01-01T09:00:00Z');
let db: ReturnType<typeof tempDb>;
beforeEach(async () => {
  db = tempDb();
});
afterEach(async () => db.remove());

const task = { name: 'send', args: '[]', dueMs: T, createdMs: T, key: null, retries: null, backoffMs: null, timeoutMs: null };
const coded = (code: string, message?: RegExp | string) =>
  expect.objectContaining(message === undefined ? { code } : { code, message: expect.stringMatching(message) });

describe('a read-only store', () => {
  it('reads an existing database without writing a byte, and refuses writes with E_DB_READONLY', async () => {
    const writer = new SqliteStore({ path: db.path });
    await writer.insert([task]);
    writer.close(); // the last connection checkpoints and deletes -wal and -shm
    const bytes = readFileSync(db.path);
    const reader = new SqliteStore({ path: db.path, readonly: true });
    expect((await reader.stats()).counts.scheduled).toBe(1);
    expect(await reader.list({})).toHaveLength(1);
    await expect(reader.insert([task])).rejects.toThrow(coded('E_DB_READONLY'));
    reader.close();
    expect(readFileSync(db.path).equals(bytes)).toBe(true);
  });

  it('refuses a missing file, and a file that needs migrating, saying what to run', async () => {
    expect(() => new SqliteStore({ path: db.path, readonly: true })).toThrow(coded('E_DB_MISSING', /no such database file/));
    const old = new Database(db.path);
    for (const sql of MIGRATIONS.slice(0, 4)) old.exec(sql);
    old.pragma('user_version = 4');
    old.close();
    const bytes = readFileSync(db.path);
    expect(() => new SqliteStore({ path: db.path, readonly: true })).toThrow(
      coded('E_DB_READONLY', /schema version 4 .*run a write command \(such as enqueue\) or the daemon/),
    );
    expect(readFileSync(db.path).equals(bytes)).toBe(true);
  });
});

describe('opening errors', () => {
  it('name a missing directory, a directory given as the file, and a busy timeout too large', async () => {
    const missing = join(dirname(db.path), 'nodir', 'x.db');
    expect(() => new SqliteStore({ path: missing })).toThrow(coded('E_DB_MISSING', `directory ${dirname(missing)} does not exist`));
    const dir = join(dirname(db.path), 'adir');
    mkdirSync(dir);
    expect(() => new SqliteStore({ path: dir })).toThrow(coded('E_DB_MISSING', `${dir} is a directory, expected a database file`));
    expect(() => new SqliteStore({ path: db.path, busyTimeoutMs: 2 ** 31 })).toThrow(coded('E_BAD_OPTION', /busyTimeoutMs .* 2147483647/));
    expect(() => new SqliteStore({ path: db.path, busyTimeoutMs: -1 })).toThrow(coded('E_BAD_OPTION'));
    const ok = new SqliteStore({ path: db.path, busyTimeoutMs: 2 ** 31 - 1 });
    ok.close();
  });
});

describe('a new database file', () => {
  it('is created 0600, and SQLite gives its -wal and -shm files the same mode', async () => {
    const store = new SqliteStore({ path: db.path });
    await store.insert([task]);
    try {
      for (const suffix of ['', '-wal', '-shm']) expect((statSync(db.path + suffix).mode & 0o777).toString(8)).toBe('600');
    } finally {
      store.close();
    }
  });
});

describe('errors of the driver', () => {
  it('come coded: a value it cannot bind, a closed store', async () => {
    const store = new SqliteStore({ path: db.path });
    await expect(store.insert([{ ...task, args: {} as unknown as string }])).rejects.toThrow(coded('E_DB', /cannot bind/));
    store.close();
    await expect(store.get(1)).rejects.toThrow(coded('E_DB', /connection is closed/));
  });
});
