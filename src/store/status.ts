/** What the store says of itself: stats, slot load, the workers and their declared policies. */
import type { TaskState } from './tasks.js';

/** Scheduled tasks due in one second (Overview.slotLoad): the wheel's slot of that second, and how many. */
export interface SlotCount {
  second: number;
  count: number;
}

export interface Stats {
  counts: Record<TaskState, number>;
  cursor: number | null;
  nextDueMs: number | null;
  /**
   * The slot load: the busiest wheel slots (slot = due second % 3600) by number of scheduled
   * tasks placed in the ring. Which tasks are in the ring is the backend's business (SQLite:
   * those in the wheel index, as opposed to hour buckets; a sharded backend: summed over shards).
   */
  busiestSlots: { slot: number; count: number }[];
  /** Scheduled tasks by name (all of them, wherever the backend keeps them). */
  scheduledByName: Record<string, number>;
  /** What only one backend has to say, tagged by its kind. */
  backend: BackendStats;
}

/**
 * Per backend. SQLite: `inBuckets`, scheduled tasks due in a later hour that wait in its
 * hour bucket, not yet in any slot. Other backends add their own variant.
 */
export type BackendStats = { kind: 'sqlite'; inBuckets: number } | { kind: string; [detail: string]: unknown };

/** A handler's declared policy, as a daemon publishes it with its heartbeat. */
export interface TaskPolicy {
  retries?: number;
  backoffMs?: number;
  timeoutMs?: number | null;
  maxCutOffs?: number;
}

export interface WorkerRow {
  owner: string;
  host: string;
  pid: number;
  names: string[];
  /** The declared policy of each served name that declares one. */
  policies: Record<string, TaskPolicy>;
  startedMs: number;
  beat: number;
  seenMs: number;
}
