/**
 * What a write of new tasks tells: the log (one line per task, or one per bulk write, so a bulk
 * enqueue does not flood it) and one 'received' event per row. A bulk enqueue writes thousands
 * of rows per call, so with nobody listening (the usual case) no payloads are built.
 */
import type { EventEmitter } from 'node:events';
import { safeEmit } from './events.js';
import type { Logger } from './logger.js';
import type { Inserted } from './store/types.js';

export function tellReceived(events: EventEmitter, logger: Logger, name: string, inserted: readonly Inserted[]): void {
  const [first, last] = [inserted[0], inserted[inserted.length - 1]];
  if (!first || !last) return;
  if (inserted.length === 1) {
    logger.info({ taskId: first.id, name, eta: new Date(first.dueMs), created: first.created }, 'received');
  } else {
    logger.info({ name, count: inserted.length, firstId: first.id, lastId: last.id }, 'received');
  }
  if (events.listenerCount('received') === 0) return;
  for (const row of inserted) safeEmit(events, logger, 'received', { taskId: row.id, name, dueMs: row.dueMs, created: row.created });
}

export function earliestDueMs(rows: readonly Inserted[]): number {
  let earliest = Number.POSITIVE_INFINITY;
  for (const row of rows) if (row.dueMs < earliest) earliest = row.dueMs;
  return earliest;
}
