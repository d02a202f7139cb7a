/**
 * How CLI commands reach the database: straight through the store, no daemon needed. Commands
 * that only read or change existing rows pass `mustExist`, so a mistyped --db is an error
 * rather than a fresh empty database; commands that only read also pass `readonly`, so a
 * user who may read the file but not write it (monitoring) can run them.
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DelaydError } from '../../errors.js';
import { openStore as openDb } from '../../store/open.js';
import { isRedisUrl } from '../../store/redis/url.js';
import type { Store } from '../../store/types.js';
import type { StoreTarget } from './argv.js';

export interface OpenOptions {
  mustExist: boolean;
  readonly?: boolean;
}

export const READ_ONLY: OpenOptions = { mustExist: true, readonly: true };

export function openStore(target: StoreTarget, options: OpenOptions): Store {
  checkDbLocation(target.db);
  return openDb({ db: target.db, mustExist: options.mustExist, busyTimeoutMs: target.busyTimeoutMs, ...(options.readonly ? { readonly: true } : {}) });
}

export async function withStore<T>(target: StoreTarget, options: OpenOptions, use: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(target, options);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/**
 * Before SQLite tries: a --db that is a directory, or inside a directory that does not exist,
 * gets a message that says so (SQLite's own is "unable to open database file").
 */
export function checkDbLocation(path: string): void {
  if (isRedisUrl(path)) return; // a server, not a file: openStore checks the URL
  const kind = (p: string) => {
    try {
      return statSync(p).isDirectory() ? 'dir' : 'file';
    } catch {
      return 'none';
    }
  };
  if (kind(path) === 'dir') throw new DelaydError('E_BAD_OPTION', `Expected --db to be a SQLite file, got ${JSON.stringify(path)}, which is a directory`);
  const parent = dirname(path);
  const parentKind = kind(parent);
  if (parentKind === 'none') throw new DelaydError('E_DB_MISSING', `${path}: the directory ${JSON.stringify(parent)} does not exist`);
  if (parentKind === 'file') throw new DelaydError('E_DB_MISSING', `${path}: ${JSON.stringify(parent)} is a file, not a directory`);
}
