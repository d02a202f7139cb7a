/**
 * `delayd stats`, `list` and `show`: read-only views of the database, opened read-only (so a
 * user who may only read the file can run them); it must exist. Only live daemons count:
 * a worker row left by a crashed daemon is neither shown nor taken as serving its names.
 */
import { DelaydError } from '../errors.js';
import type { ListFilter, Store } from '../store/types.js';
import { printJson, type Io } from './io.js';
import { READ_ONLY, withStore } from './open-store.js';
import type { StoreTarget } from './options.js';
import { listText, showText, statsJson, statsText, taskJson } from './present.js';
import { liveWorkers, processLiveContext, servedBy, type Served } from './serving.js';

export function stats(target: StoreTarget, json: boolean, io: Io): void {
  withStore(target, READ_ONLY, (store) => {
    const s = store.stats();
    const context = processLiveContext(io.clock.now());
    const workers = store.workers();
    const live = liveWorkers(workers, context);
    const served = servedBy(workers, context);
    if (json) printJson(io, statsJson(s, live, served));
    else io.stdout.write(statsText(s, live, served, io.clock.now()));
  });
}

export function list(target: StoreTarget, filter: ListFilter, json: boolean, io: Io): void {
  withStore(target, READ_ONLY, (store) => {
    const rows = store.list(filter);
    if (json) {
      const served = liveServed(store, io);
      printJson(io, rows.map((row) => taskJson(row, served)));
    } else io.stdout.write(listText(rows, io.clock.now()));
  });
}

export function show(target: StoreTarget, id: number, json: boolean, io: Io): void {
  withStore(target, READ_ONLY, (store) => {
    const row = store.get(id);
    if (!row) throw new DelaydError('E_NOT_FOUND', `No task with id ${id}`);
    const served = liveServed(store, io);
    if (json) printJson(io, taskJson(row, served));
    else io.stdout.write(showText(row, io.clock.now(), served));
  });
}

/** The names live daemons serve and their declared policies (policy.ts explains the rest). */
export function liveServed(store: Store, io: Io): Served {
  return servedBy(store.workers(), processLiveContext(io.clock.now()));
}
