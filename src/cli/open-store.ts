/**
 * How CLI commands reach the database: straight through the store, no daemon needed. Commands
 * that only read or change existing rows pass `mustExist`, so a mistyped --db is an error
 * rather than a fresh empty database.
 */
import { SqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';
import type { StoreTarget } from './options.js';

export function withStore<T>(target: StoreTarget, options: { mustExist: boolean }, use: (store: Store) => T): T {
  const store = new SqliteStore({ path: target.db, mustExist: options.mustExist, busyTimeoutMs: target.busyTimeoutMs });
  try {
    return use(store);
  } finally {
    store.close();
  }
}
