/** The cron types of the store contract: definitions, their sync, and what `delayd cron` lists. */
import type { NewTask, TaskState } from './tasks.js';

/** What happens to the occurrences of a cron that fell while no daemon ran (src/cron/). */
export const CRON_MISSED = ['skip', 'once', 'all'] as const;
export type CronMissed = (typeof CRON_MISSED)[number];

/** The key of the occurrence of cron `name` due at `dueMs`: part of the contract (Crons). */
export function occurrenceKey(name: string, dueMs: number): string {
  return `cron:${name}:${dueMs}`;
}

/** A cron definition, as a daemon's code declares it (task(name, { cron, tz, args, missed })). */
export interface CronDef {
  /** The task name; its occurrences are tasks of this name with key `cron:<name>:<dueMs>`. */
  name: string;
  expression: string;
  /** The IANA zone the expression is read in (resolved: never empty). */
  tz: string;
  /** JSON array text: the args every occurrence gets. */
  args: string;
  missed: CronMissed;
}

/** What a starting daemon asks of Crons.syncCrons. */
export interface CronSync {
  nowMs: number;
  /** The crons this daemon's code defines, each with the occurrence to insert when none is pending. */
  crons: { def: CronDef; first: NewTask }[];
  /** Names this daemon serves without a cron: a cron of such a name was removed from the code. */
  plain: string[];
}

export interface CronSynced {
  name: string;
  /** created: no record before; changed: the definition differs (or was removed and is back); removed: see CronSync.plain. */
  change: 'created' | 'unchanged' | 'changed' | 'removed';
  /** Scheduled heads of the old definition cancelled (changed, removed). */
  cancelled: number;
  /** The id of the pending occurrence after the sync (null: none, as after a removal). */
  headId: number | null;
  /** Whether `first` was inserted. */
  inserted: boolean;
}

/** One occurrence task, as `delayd cron` shows it. */
export interface CronOccurrence {
  id: number;
  dueMs: number;
  state: TaskState;
  attempts: number;
  startedMs: number | null;
  finishedMs: number | null;
  lastErrorCode: string | null;
}

/** A cron record of the database, with its pending and its last started occurrence. */
export interface CronRow extends CronDef {
  /** When the definition last changed (created, changed, removed, back). */
  updatedMs: number;
  /** When a daemon last synced it. */
  syncedMs: number;
  /** When a daemon serving the name without a cron removed it; null while defined. */
  removedMs: number | null;
  /** The head: the pending occurrence (scheduled, or claimed and not yet started). */
  next: CronOccurrence | null;
  /** The latest occurrence whose first attempt started (purged: null). */
  last: CronOccurrence | null;
}
