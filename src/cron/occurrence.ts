/**
 * Occurrences as tasks: the row of the occurrence of a cron at a time, and what the start of
 * an occurrence's first attempt writes beside its `started` (admission.ts): the follower, and
 * whether the occurrence itself must not run: missed under 'skip', or superseded under 'once'
 * by the latest occurrence that fell, which is then its follower (schedule.ts).
 */
import { occurrenceKey, type ClaimedTask, type ErrorInfo, type NewTask } from '../store/types.js';
import type { CronSchedule } from './schedule.js';

/** The task of the occurrence of cron `name` due at `dueMs` (the handler's policy applies). */
export function occurrenceTask(name: string, schedule: CronSchedule, dueMs: number, createdMs: number): NewTask {
  return {
    name,
    args: schedule.spec.args,
    dueMs,
    createdMs,
    key: occurrenceKey(name, dueMs),
    retries: null,
    backoffMs: null,
    timeoutMs: null,
  };
}

export interface CronStart {
  /** The follower to insert with the start (none: the schedule has ended). */
  next: NewTask | undefined;
  /** Set when the occurrence must not run (missed under 'skip', superseded under 'once'): it ends with this error, unrun. */
  missed: ErrorInfo | undefined;
}

/** Whether `task` is an occurrence of its cron (and not an ad hoc delay() of the same name). */
export function isOccurrence(task: ClaimedTask): boolean {
  return task.key === occurrenceKey(task.name, task.dueMs);
}

/** What the first start of occurrence `task` at `atMs` writes beside its `started`. */
export function cronStart(schedule: CronSchedule, task: ClaimedTask, atMs: number): CronStart {
  const latestMs = schedule.spec.missed === 'once' ? schedule.supersededBy(task.dueMs, atMs) : null;
  if (latestMs !== null) {
    return { next: occurrenceTask(task.name, schedule, latestMs, atMs), missed: supersededError(task, latestMs, atMs) };
  }
  const followerMs = schedule.follower(task.dueMs, atMs);
  const next = followerMs === null ? undefined : occurrenceTask(task.name, schedule, followerMs, atMs);
  const skip = schedule.spec.missed === 'skip' && schedule.isMissed(task.dueMs, atMs);
  return { next, missed: skip ? missedError(schedule, task, atMs) : undefined };
}

function supersededError(task: ClaimedTask, latestMs: number, atMs: number): ErrorInfo {
  const message =
    `Cron occurrence of ${task.name} due at ${new Date(task.dueMs).toISOString()} was missed: ` +
    `it could start only at ${new Date(atMs).toISOString()}, when later ones had fallen too; ` +
    `not run, as missed: 'once' runs only the latest of them, due at ${new Date(latestMs).toISOString()}`;
  return { code: 'E_CRON_MISSED', message, stack: `DelaydError [E_CRON_MISSED]: ${message}` };
}

function missedError(schedule: CronSchedule, task: ClaimedTask, atMs: number): ErrorInfo {
  const lateS = (atMs - task.dueMs) / 1000;
  const graceS = schedule.graceMs(task.dueMs) / 1000;
  const message =
    `Cron occurrence of ${task.name} due at ${new Date(task.dueMs).toISOString()} was missed: ` +
    `it could start only at ${new Date(atMs).toISOString()}, ${lateS} s late (grace ${graceS} s); ` +
    `not run, as missed: 'skip' says`;
  return { code: 'E_CRON_MISSED', message, stack: `DelaydError [E_CRON_MISSED]: ${message}` };
}
