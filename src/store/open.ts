/**
 * The one place a store is opened from a `db` target (the scheduler, the daemon and the CLI
 * all come here), so a backend is added by teaching this file its URL scheme: a SQLite path
 * (or a file: URL made a path), or a Redis URL (redis://, rediss://, redis+cluster://). Any
 * other scheme, or a malformed Redis URL, is refused with E_BAD_DB_URL (checkDbPath) before
 * anything is created or connected. Opening stays synchronous: a Redis store connects on its
 * first call.
 */
import { DelaydError } from '../errors.js';
import { checkDbPath } from '../config.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite/index.js';
import { RedisStore, type RedisStoreOptions } from './redis/index.js';
import { isRedisUrl } from './redis/url.js';
import type { Store } from './types.js';

export interface DbTarget {
  /** A SQLite file path, ':memory:', a file: URL, or a Redis URL. */
  db: string;
  /** Milliseconds to wait for another process's lock before failing (SQLite). @default 5000 */
  busyTimeoutMs?: number | undefined;
  /** Refuse to create the database when it does not exist (SQLite). @default false */
  mustExist?: boolean;
  /** Open for reading only: nothing is written (SQLite). @default false */
  readonly?: boolean;
  synchronous?: SqliteStoreOptions['synchronous'];
  onUpkeepError?: SqliteStoreOptions['onUpkeepError'];
  /** Redis: shards of a new queue. @default 16 */
  shards?: number | undefined;
  /** Redis: replicas that must confirm each write. @default 0 */
  replicas?: number | undefined;
  /** Redis: told what the server's durability settings mean, once connected. */
  log?: RedisStoreOptions['log'];
  /** Names the option in error messages (`db`, --db, $DELAYD_DB). @default '`db`' */
  what?: string;
}

export function openStore(target: DbTarget): Store {
  const path = checkDbPath(target.db, target.what);
  if (isRedisUrl(path)) {
    const options: RedisStoreOptions = { url: path };
    if (target.shards !== undefined) options.shards = target.shards;
    if (target.replicas !== undefined) options.replicas = target.replicas;
    if (target.log !== undefined) options.log = target.log;
    return new RedisStore(options);
  }
  for (const [name, value] of [['shards', target.shards], ['replicas', target.replicas]] as const) {
    if (value !== undefined) throw new DelaydError('E_BAD_OPTION', `\`${name}\` is a Redis option; expected no ${name} with a SQLite database, got ${name}: ${value}`);
  }
  const options: SqliteStoreOptions = { path };
  // Only the fields given, so SqliteStore's own defaults apply exactly as before.
  if (target.mustExist !== undefined) options.mustExist = target.mustExist;
  if (target.readonly !== undefined) options.readonly = target.readonly;
  if (target.busyTimeoutMs !== undefined) options.busyTimeoutMs = target.busyTimeoutMs;
  if (target.synchronous !== undefined) options.synchronous = target.synchronous;
  if (target.onUpkeepError !== undefined) options.onUpkeepError = target.onUpkeepError;
  return new SqliteStore(options);
}
