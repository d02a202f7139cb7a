/**
 * The one place a store is opened from a `db` target (the scheduler, the daemon and the CLI
 * all come here), so a second backend is added by teaching this file its URL scheme. Today
 * there is one backend: a SQLite path, or a file: URL made a path (checkDbPath); any other
 * scheme is refused with E_BAD_DB_URL, naming the forms `db` accepts, before anything is
 * created.
 */
import { checkDbPath } from '../config.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite/index.js';
import type { Store } from './types.js';

export interface DbTarget {
  /** A SQLite file path, ':memory:', or a file: URL. */
  db: string;
  /** Milliseconds to wait for another process's lock before failing. @default 5000 */
  busyTimeoutMs?: number | undefined;
  /** Refuse to create the database when it does not exist. @default false */
  mustExist?: boolean;
  /** Open for reading only: nothing is written. @default false */
  readonly?: boolean;
  synchronous?: SqliteStoreOptions['synchronous'];
  onUpkeepError?: SqliteStoreOptions['onUpkeepError'];
  /** Names the option in error messages (`db`, --db, $DELAYD_DB). @default '`db`' */
  what?: string;
}

export function openStore(target: DbTarget): Store {
  const path = checkDbPath(target.db, target.what);
  const options: SqliteStoreOptions = { path };
  // Only the fields given, so SqliteStore's own defaults apply exactly as before.
  if (target.mustExist !== undefined) options.mustExist = target.mustExist;
  if (target.readonly !== undefined) options.readonly = target.readonly;
  if (target.busyTimeoutMs !== undefined) options.busyTimeoutMs = target.busyTimeoutMs;
  if (target.synchronous !== undefined) options.synchronous = target.synchronous;
  if (target.onUpkeepError !== undefined) options.onUpkeepError = target.onUpkeepError;
  return new SqliteStore(options);
}
