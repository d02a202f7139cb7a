/**
 * `delayd cancel`, `retry`, `reschedule` and `purge`: each one store call, one transaction,
 * on a database that must exist. A running daemon sees the change at its next tick, since its
 * claims reach every scheduled row at or before the cursor.
 */
import type { Store, TaskRow } from '../store/types.js';
import { checkDelayOptions, dueMsOf, type DelayOptions } from '../validate.js';
import { formatDuration } from './duration.js';
import { printJson, type Io } from './io.js';
import { withStore } from './open-store.js';
import { withFlagNames, type StoreTarget } from './options.js';
import { liveServed } from './inspect.js';
import { iso, taskJson } from './present.js';

interface Change {
  target: StoreTarget;
  json: boolean;
  io: Io;
}

export function cancel(id: number, c: Change): void {
  change(c, (store) => store.cancel(id, c.io.clock.now()), (row) => `cancelled task ${row.id} (${row.name})`);
}

export function retry(id: number, c: Change): void {
  change(c, (store) => store.retry(id, c.io.clock.now()), (row) => `task ${row.id} (${row.name}) is scheduled again, due now`);
}

export function reschedule(id: number, when: DelayOptions, c: Change): void {
  // Validated before the database is opened: a bad --eta changes nothing.
  const dueMs = withFlagNames(() => dueMsOf(checkDelayOptions(when), c.io.clock.now()));
  change(c, (store) => store.reschedule(id, dueMs), (row) => `task ${row.id} (${row.name}) is now due at ${iso(row.dueMs)}`);
}

export function purge(olderThanMs: number, c: Change): void {
  const beforeMs = c.io.clock.now() - olderThanMs;
  const purged = withStore(c.target, { mustExist: true }, (store) => store.purge(beforeMs));
  if (c.json) printJson(c.io, { purged, finishedBefore: iso(beforeMs) });
  else c.io.stdout.write(`purged ${purged} finished tasks older than ${formatDuration(olderThanMs)} (finished before ${iso(beforeMs)})\n`);
}

function change(c: Change, apply: (store: Store) => TaskRow, describe: (row: TaskRow) => string): void {
  withStore(c.target, { mustExist: true }, (store) => {
    // Read before the change: nothing that could fail runs after it is committed.
    const served = c.json ? liveServed(store, c.io) : undefined;
    const row = apply(store);
    if (served) printJson(c.io, taskJson(row, served));
    else c.io.stdout.write(`${describe(row)}\n`);
  });
}
