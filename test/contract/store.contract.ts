/**
 * The store conformance suite (issue 11): one suite, written against the Store interface alone
 * (types.ts), that every backend must pass. A backend's test file calls describeStore once per
 * way of opening it; each test gets a fresh, empty store. Every call is awaited, so the suite
 * runs unchanged when the contract becomes async.
 */
import { afterEach, beforeEach, describe } from 'vitest';
import type { Store } from '../../src/store/types.js';
import type { StoreRef } from './fixtures.js';
import { tasksCases } from './tasks.cases.js';
import { claimCases } from './claims.cases.js';
import { recordCases } from './record.cases.js';
import { adminCases } from './admin.cases.js';
import { livenessCases } from './liveness.cases.js';
import { purgeCases } from './purge.cases.js';
import { batchCases } from './batches.cases.js';
import { statsCases } from './stats.cases.js';
import { loadCases } from './load.cases.js';
import { cronCases } from './cron.cases.js';

export function describeStore(
  name: string,
  open: () => Store | Promise<Store>,
  close: (store: Store) => void | Promise<void> = (store) => store.close(),
): void {
  describe(`store contract: ${name}`, () => {
    let store: Store | undefined;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      const opened = store;
      store = undefined;
      if (opened) await close(opened);
    });
    const ref: StoreRef = () => {
      if (!store) throw new Error('Expected a store opened by beforeEach, got none');
      return store;
    };
    describe('insert, get, keys, ids', () => tasksCases(ref));
    describe('claim', () => claimCases(ref));
    describe('record', () => recordCases(ref));
    describe('cancel, reschedule, retry', () => adminCases(ref));
    describe('release, bury, heartbeat', () => livenessCases(ref));
    describe('purge', () => purgeCases(ref));
    describe('batches', () => batchCases(ref));
    describe('stats and errors', () => statsCases(ref));
    describe('dashboard reads: slot load, recent batches, list paging', () => loadCases(ref));
    describe('crons: followers and sync', () => cronCases(ref));
  });
}
