/** The store conformance suite on SQLite: a temporary file per test, and ':memory:'. */
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDb } from '../tmpdb.js';
import { describeStore } from './store.contract.js';

const files = new Map<Store, () => void>();

describeStore(
  'sqlite file',
  () => {
    const db = tempDb();
    const store = new SqliteStore({ path: db.path });
    files.set(store, db.remove);
    return store;
  },
  (store) => {
    store.close();
    files.get(store)?.();
    files.delete(store);
  },
);

describeStore('sqlite :memory:', () => new SqliteStore({ path: ':memory:' }));
