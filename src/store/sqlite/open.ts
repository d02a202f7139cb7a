/**
 * Opening an SQLite file for the store: clear errors for paths that cannot be a database, a
 * new file created 0600 (task args may hold addresses or tokens; SQLite gives -wal and -shm the
 * mode of the database file), the pragmas, and the migrations, safe when several processes
 * open one new file at once. A read-only open writes nothing: no pragma that writes, no
 * migration.
 */
import { closeSync, copyFileSync, existsSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { DelaydError, describe } from '../../errors.js';
import { toDelaydError } from './errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

export const PAGE_SIZE = 2048;
const WAL_AUTOCHECKPOINT_BYTES = 40 * 1024 * 1024;
/** SQLite's busy_timeout is a C int: a larger value would wrap around to no wait at all. */
const MAX_BUSY_TIMEOUT_MS = 2_147_483_647;

export interface OpenOptions {
  path: string;
  mustExist: boolean;
  readonly: boolean;
  busyTimeoutMs: number | undefined;
  synchronous: 'NORMAL' | 'FULL';
}

export function openDatabase(o: OpenOptions): Database.Database {
  const busyTimeoutMs = o.busyTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0 || busyTimeoutMs > MAX_BUSY_TIMEOUT_MS) {
    throw new DelaydError('E_BAD_OPTION', `Expected busyTimeoutMs to be an integer from 0 to ${MAX_BUSY_TIMEOUT_MS}, got ${describe(busyTimeoutMs)}`);
  }
  const inMemory = o.path === ':memory:' || o.path === '';
  if (!inMemory) checkPath(o.path, o.mustExist || o.readonly);
  if (o.readonly) {
    try {
      return openOnce(o, busyTimeoutMs);
    } catch (error) {
      if (!cannotMakeSharedMemory(error)) throw error;
      return openOnce({ ...o, path: snapshotOf(o.path) }, busyTimeoutMs, o.path);
    }
  }
  return openOnce(o, busyTimeoutMs);
}

/**
 * A reader of a WAL database needs its -shm file, which only a connection that may write in
 * the folder can create. Without one (a monitoring user with read access to the file only),
 * no process has the database open, so the file (and any -wal a crash left) is complete and
 * still: a copy in a private temporary folder is read instead, and deleted at exit.
 */
function cannotMakeSharedMemory(error: unknown): boolean {
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return code === 'SQLITE_READONLY_DIRECTORY' || code === 'SQLITE_CANTOPEN';
}

function snapshotOf(path: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'delayd-read-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const copy = join(dir, 'snapshot.db');
  copyFileSync(path, copy);
  if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`);
  return copy;
}

function openOnce(o: OpenOptions, busyTimeoutMs: number, shownPath = o.path): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(o.path, { readonly: o.readonly, fileMustExist: o.mustExist || o.readonly });
  } catch (error) {
    throw toDelaydError(error, shownPath);
  }
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Refuse a file that is not ours before any pragma below writes to it.
    const version = checkVersion(db, shownPath, o.mustExist || o.readonly);
    if (o.readonly) {
      if (version < SCHEMA_VERSION) {
        throw new DelaydError(
          'E_DB_READONLY',
          `${shownPath}: the database has schema version ${version} and needs upgrading to ${SCHEMA_VERSION}, which a read-only command cannot do; run a write command (such as enqueue) or the daemon on it once first`,
        );
      }
      return db;
    }
    // Claims and outcomes rewrite one page per task when tasks due together were inserted
    // apart: 2 KB pages made that about a sixth faster than 4 KB ones and bulk inserts no
    // slower (1 KB pages: faster still there, a fifth slower at bulk inserts). It can only be
    // set before the file has any table (and before WAL), so an older file keeps its size;
    // after another process made the tables it does nothing.
    if (version === 0) db.pragma(`page_size = ${PAGE_SIZE}`);
    enableWal(db);
    db.pragma(`synchronous = ${o.synchronous}`);
    // A claim and an outcome each rewrite the pages of their tasks; checkpointing every 1000
    // pages (the default) copied most pages back twice and fsynced after nearly every group
    // commit. A WAL of up to 40 MB copies a page once per window.
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma(`wal_autocheckpoint = ${Math.round(WAL_AUTOCHECKPOINT_BYTES / pageSize)}`);
    if (version < SCHEMA_VERSION) migrate(db, o.path);
    return db;
  } catch (error) {
    db.close();
    throw toDelaydError(error, shownPath);
  }
}

/** Says what is wrong with a path SQLite could not open; creates a new file 0600. */
function checkPath(path: string, mustExist: boolean): void {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat?.isDirectory()) throw new DelaydError('E_DB_MISSING', `${path} is a directory, expected a database file`);
  if (stat) return;
  if (mustExist) throw new DelaydError('E_DB_MISSING', `${path}: no such database file`);
  const dir = dirname(path);
  const parent = statSync(dir, { throwIfNoEntry: false });
  if (!parent) throw new DelaydError('E_DB_MISSING', `${path}: directory ${dir} does not exist`);
  if (!parent.isDirectory()) throw new DelaydError('E_DB_MISSING', `${path}: ${dir} is not a directory`);
  try {
    closeSync(openSync(path, 'wx', 0o600)); // an empty file is an empty database to SQLite
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return; // another process made it first
    const reason = (error as Error).message;
    const code = (error as NodeJS.ErrnoException).code === 'EACCES' ? 'E_DB_READONLY' : 'E_DB';
    throw new DelaydError(code, `${path}: cannot create the database file (${reason})`, { cause: error });
  }
}

/**
 * The file's schema version, after refusing one from a newer delayd, one with tables of
 * another program's, and (when it must exist) one that delayd never set up.
 */
function checkVersion(db: Database.Database, path: string, mustExist: boolean): number {
  // One read transaction: both from the same snapshot, not a version of 0 read before another
  // process's migration committed and its tables after.
  const [version, tables] = db.transaction((): [number, number] => [
    db.pragma('user_version', { simple: true }) as number,
    db.prepare(`SELECT count(*) FROM sqlite_master`).pluck().get() as number,
  ])();
  if (version > SCHEMA_VERSION) throw newerSchema(path, version);
  if (version > 0) return version;
  if (tables > 0 || mustExist) {
    const why = tables > 0 ? `it has ${tables} tables or indexes of another program's` : 'it has no delayd tables';
    throw new DelaydError('E_DB_NOT_DELAYD', `${path}: not a delayd database (${why}); refusing to change it`);
  }
  return version;
}

function newerSchema(path: string, version: number): DelaydError {
  return new DelaydError(
    'E_DB_NEWER_SCHEMA',
    `${path}: the database has schema version ${version}, newer than this delayd's ${SCHEMA_VERSION}; upgrade delayd`,
  );
}

/**
 * Runs the migrations still due, reading the version again under the write lock: another
 * process opening the same new file may have migrated it since this one first looked.
 */
function migrate(db: Database.Database, path: string): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw newerSchema(path, version);
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] as string);
    if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/**
 * Switches to WAL. Another process switching the same new file at the same moment can make
 * this fail with SQLITE_BUSY without waiting: then the file is, or soon will be, in WAL mode.
 */
function enableWal(db: Database.Database): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; ; attempt++) {
    try {
      db.pragma('journal_mode = WAL'); // ':memory:' stays 'memory', which is fine
      return;
    } catch (error) {
      if (!String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY') || attempt >= 100) throw error;
    }
    Atomics.wait(pause, 0, 0, 10);
  }
}
