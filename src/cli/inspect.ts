/** `delayd stats`, `list` and `show`: read-only views of the database; it must exist. */
import { DelaydError } from '../errors.js';
import type { ListFilter } from '../store/types.js';
import { printJson, type Io } from './io.js';
import { withStore } from './open-store.js';
import type { StoreTarget } from './options.js';
import { listText, showText, statsJson, statsText, taskJson } from './present.js';

const MUST_EXIST = { mustExist: true };

export function stats(target: StoreTarget, json: boolean, io: Io): void {
  withStore(target, MUST_EXIST, (store) => {
    const s = store.stats();
    const workers = store.workers();
    if (json) printJson(io, statsJson(s, workers));
    else io.stdout.write(statsText(s, workers, io.clock.now()));
  });
}

export function list(target: StoreTarget, filter: ListFilter, json: boolean, io: Io): void {
  withStore(target, MUST_EXIST, (store) => {
    const rows = store.list(filter);
    if (json) printJson(io, rows.map(taskJson));
    else io.stdout.write(listText(rows, io.clock.now()));
  });
}

export function show(target: StoreTarget, id: number, json: boolean, io: Io): void {
  withStore(target, MUST_EXIST, (store) => {
    const row = store.get(id);
    if (!row) throw new DelaydError('E_NOT_FOUND', `No task with id ${id}`);
    if (json) printJson(io, taskJson(row));
    else io.stdout.write(showText(row, io.clock.now()));
  });
}
