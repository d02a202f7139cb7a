/**
 * The claim and the stats of the SQLite store, run inside its transactions. A claim joins the
 * hour buckets up to its cycle, takes the first `limit` due tasks of the served names by due
 * time, marks them running, and moves the persisted cursor (which never goes back) to the
 * last second it emptied.
 */
import { positionOf, secondOf } from '../../slot.js';
import type { CycleBuckets } from './buckets.js';
import type { StatementSet } from './statements.js';
import { TASK_STATES, type ClaimRequest, type ClaimResult, type ClaimedTask, type Stats, type TaskState } from '../types.js';

export function claimDue(sql: StatementSet, buckets: CycleBuckets, request: ClaimRequest): ClaimResult {
  const { slot, cycle } = positionOf(request.uptoSecond);
  // Normally a no-op: the upkeep thread joined this cycle's buckets during the one before.
  buckets.joinUpTo(cycle);
  const tasks = dueOfNames(sql, request, slot, cycle);
  // A full claim may have left tasks of its last second behind: the cursor stops short of it.
  const last = tasks[tasks.length - 1];
  const reached = tasks.length < request.limit || !last ? request.uptoSecond : secondOf(last.dueMs) - 1;
  const cursor = sql.advanceCursor.pluck().get({ second: reached }) as number;
  return { tasks, cursor };
}

/**
 * The first `limit` due tasks of the served names, by due time, marked running. Each name
 * is one range scan of the wheel index that stops at what is due (or at `limit`), so a
 * claim costs what is due for its names, whatever waits under others.
 */
function dueOfNames(sql: StatementSet, request: ClaimRequest, slot: number, cycle: number): ClaimedTask[] {
  const { owner, limit, names } = request;
  if (names.length === 0 || limit <= 0) return [];
  let rows: ClaimedTask[];
  if (names.length === 1) {
    rows = sql.claimOneName.all({ owner, name: names[0], slot, cycle, limit });
  } else {
    let due: { id: number; dueMs: number }[] = [];
    for (const name of new Set(names)) due = due.concat(sql.dueOfName.all({ name, slot, cycle, limit }));
    if (due.length === 0) return [];
    due.sort(byDue);
    const ids = due.slice(0, limit).map((d) => d.id);
    rows = sql.claimIds.all({ owner, ids: JSON.stringify(ids) });
  }
  // RETURNING yields rows in the order they were updated (by id), not by due time.
  return rows.sort(byDue);
}

export function readStats(sql: StatementSet, buckets: CycleBuckets): Stats {
  const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  let inBuckets = 0;
  for (const row of sql.countByState.all()) {
    counts[row.state] = row.n;
    if (row.state === 'scheduled') inBuckets = row.outside;
  }
  const nextDueMs = earliest(nextInWheel(sql), buckets.firstDueMs());
  const cursor = sql.cursor.pluck().get() as number | undefined;
  const busiestSlots = sql.busiestSlots.all().map((r) => ({ slot: r.slot, count: r.n }));
  const scheduledByName: Record<string, number> = {};
  for (const row of sql.scheduledByName.all()) scheduledByName[row.name] = row.n;
  return { counts, cursor: cursor ?? null, nextDueMs, busiestSlots, scheduledByName, backend: { kind: 'sqlite', inBuckets } };
}

/** The earliest due time in the wheel: the first of each name, skipping from name to name. */
function nextInWheel(sql: StatementSet): number | null {
  let next: number | null = null;
  for (let row = sql.firstWheelName.get(); row; row = sql.nextWheelName.get({ name: row.name })) {
    next = earliest(next, sql.nextDueOfName.get({ name: row.name })?.due_ms ?? null);
  }
  return next;
}

function byDue(a: { id: number; dueMs: number }, b: { id: number; dueMs: number }): number {
  return a.dueMs - b.dueMs || a.id - b.id;
}

export function earliest(a: number | null, b: number | null): number | null {
  return a === null || b === null ? (a ?? b) : Math.min(a, b);
}
