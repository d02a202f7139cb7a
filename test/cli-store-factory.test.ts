/** openStore (src/store/open.ts): the one way the scheduler, the daemon and the CLI open a store. */
import { existsSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { RedisStore } from '../src/store/redis/index.js';
import { tempDb } from './tmpdb.js';

let db: ReturnType<typeof tempDb>;
afterEach(() => db?.remove());

describe('openStore', () => {
  it('refuses the Redis options shards and replicas with a SQLite path, and creates nothing', () => {
    db = tempDb();
    expect(() => openStore({ db: db.path, shards: 4 })).toThrow(expect.objectContaining({ code: 'E_BAD_OPTION', message: expect.stringContaining('`shards` is a Redis option') }));
    expect(() => openStore({ db: db.path, replicas: 1 })).toThrow(expect.objectContaining({ code: 'E_BAD_OPTION', message: expect.stringContaining('got replicas: 1') }));
    expect(existsSync(db.path)).toBe(false);
  });

  it('refuses a URL scheme with no backend, naming the forms db takes, and creates nothing', () => {
    db = tempDb();
    for (const url of ['mongodb://localhost:27017', 'postgres://u@h/db', 'redis://localhost:bad']) {
      let error: unknown;
      try {
        openStore({ db: url, what: '--db' });
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'E_BAD_DB_URL', message: expect.stringMatching(/--db takes a SQLite file path \(or a file: URL\)|Expected --db to be redis:/) });
    }
    expect(readdirSync(dirname(db.path))).toEqual([]);
  });

  it('opens a Redis store for redis://, rediss:// and redis+cluster:// without connecting (it connects on first use)', async () => {
    for (const url of ['redis://127.0.0.1:1', 'rediss://u:p@127.0.0.1:2/3', 'redis+cluster://127.0.0.1:3,127.0.0.1:4']) {
      const store = openStore({ db: url, shards: 4 });
      expect(store).toBeInstanceOf(RedisStore);
      expect(store.clock).toBe('backend');
      await store.close();
    }
  });

  it('opens SQLite at a path or a file: URL, with the options given', () => {
    db = tempDb();
    const store = openStore({ db: pathToFileURL(db.path).href, busyTimeoutMs: 10 });
    expect(store).toBeInstanceOf(SqliteStore);
    store.close();
    expect(existsSync(db.path)).toBe(true);
    const reader = openStore({ db: db.path, readonly: true });
    expect((reader as SqliteStore).readonly).toBe(true);
    reader.close();
  });

  it('passes mustExist through: a missing file is an error, not a new database', () => {
    db = tempDb();
    expect(() => openStore({ db: db.path, mustExist: true })).toThrow(expect.objectContaining({ code: 'E_DB_MISSING' }));
    expect(existsSync(db.path)).toBe(false);
  });
});
