/**
 * How CLI commands reach the database: straight through the store, no daemon needed. Commands
 * that only read or change existing rows pass `mustExist`, so a mistyped --db is an error
 * rather than a fresh empty database; commands that only read also pass `readonly`, so a
 * user who may read the file but not write it (monitoring) can run them.
 */
import { SqliteStore, type SqliteStoreOptions } from '../store/sqlite.js';
import type { Store } from '../store/types.js';
import type { StoreTarget } from './options.js';

export interface OpenOptions {
  mustExist: boolean;
  readonly?: boolean;
}

export const READ_ONLY: OpenOptions = { mustExist: true, readonly: true };

export function openStore(target: StoreTarget, options: OpenOptions): SqliteStore {
  // `readonly` is the STORE side's option (SqliteStoreOptions); spread, so this compiles either way.
  const storeOptions: SqliteStoreOptions = {
    path: target.db,
    mustExist: options.mustExist,
    busyTimeoutMs: target.busyTimeoutMs,
    ...(options.readonly ? { readonly: true } : {}),
  };
  return new SqliteStore(storeOptions);
}

export function withStore<T>(target: StoreTarget, options: OpenOptions, use: (store: Store) => T): T {
  const store = openStore(target, options);
  try {
    return use(store);
  } finally {
    store.close();
  }
}
